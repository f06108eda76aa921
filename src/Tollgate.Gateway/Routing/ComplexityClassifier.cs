using System.Buffers;

namespace Tollgate.Gateway.Routing;

/// <summary>How demanding a prompt is for a model: the value of a route rule's <c>when: {complexity: low|high}</c>.</summary>
internal enum Complexity
{
    /// <summary>A small model does it well: lookups, rewriting, translation, summaries, formatting, simple code, chat.</summary>
    Low,

    /// <summary>A small model would likely answer poorly: proofs, multi-step reasoning, non-trivial code, design, analysis.</summary>
    High,
}

/// <summary>
/// The built-in prompt-complexity classifier (docs/complexity.md): a logistic model over hand-designed, documented
/// features (cue lexicons in English, Chinese, German and Spanish, and a few structural counts), run in process on
/// the CPU in microseconds. Long prompts are judged by their instruction part, the first and last
/// <see cref="Window"/> characters, so that a pasted page weighs no more than its first and last lines.
/// </summary>
internal static class ComplexityClassifier
{
    /// <summary>Scores at or above this are <see cref="Complexity.High"/>.</summary>
    public const double Threshold = 0.5;

    /// <summary>The logit with no feature present: a prompt with no cue at all is Low.</summary>
    public const double Bias = -0.7;

    /// <summary>Characters read from each end of a long prompt; prompts up to <see cref="WholeUpTo"/> are read whole.</summary>
    public const int Window = 400;

    /// <summary>Prompts up to this length are read whole.</summary>
    public const int WholeUpTo = 1000;

    /// <summary>Weight of <c>code</c>: the prompt contains code (a fence, or several of <c>; { }</c>).</summary>
    public const double CodeWeight = 0.4;

    /// <summary>Weight of <c>code+bug</c>: code together with a fault to find (bug, error, crash, wrong output).</summary>
    public const double CodeBugWeight = 1.0;

    /// <summary>Weight of <c>math-symbols</c>, per symbol (∑ ∫ √ ≤ ≥ ≠ ∞ ∀ ∃ ∈ ∂ ^ and LaTeX commands), capped at 4.</summary>
    public const double MathSymbolWeight = 0.6;

    /// <summary>Weight of <c>questions</c>: each question mark after the first, capped at 3.</summary>
    public const double QuestionWeight = 0.4;

    /// <summary>Weight of <c>requirements</c>: each numbered or bulleted line after the first, capped at 4.</summary>
    public const double RequirementWeight = 0.25;

    /// <summary>Weight of <c>length</c>: log2(1 + characters / 200), capped at 3, so length alone never decides.</summary>
    public const double LengthWeight = 0.2;

    private const int MathSymbolCap = 4;
    private const int QuestionCap = 3;
    private const int RequirementCap = 4;
    private const double LengthCap = 3;

    /// <summary>The names of the features, in the order of <see cref="Features"/> and <see cref="Weights"/>.</summary>
    public static readonly string[] FeatureNames =
        [.. ComplexityLexicon.All.Select(c => c.Name), "code", "code+bug", "math-symbols", "questions", "requirements", "length"];

    /// <summary>The logit weight of each feature, in the order of <see cref="FeatureNames"/>.</summary>
    public static readonly double[] Weights =
        [.. ComplexityLexicon.All.Select(c => c.Weight), CodeWeight, CodeBugWeight, MathSymbolWeight, QuestionWeight, RequirementWeight, LengthWeight];

    /// <summary>Cues of a fault in code, for <c>code+bug</c>.</summary>
    private static readonly string[] BugTerms =
    [
        "bug", "error", "exception", "crash", "fails", "failing", "wrong", "doesn't work", "does not work", "broken", "hangs",
        "错误", "报错", "异常", "崩溃", "不工作", "不对", "卡住",
        "fehler", "ausnahme", "absturz", "stürzt", "funktioniert nicht", "falsch", "hängt",
        "error", "excepción", "falla", "no funciona", "incorrect", "se cuelga",
    ];

    private static readonly SearchValues<char> MathSymbols = SearchValues.Create("∑∫∮√≤≥≠≈≡∞∀∃∈∉⊂⊆∪∩∂∇∏⇒⇔→^");

    private static readonly Term[][] Lexicons = [.. ComplexityLexicon.All.Select(c => Compile(c.Terms))];

    private static readonly Term[] Bugs = Compile(BugTerms);

    private static readonly string[] LatexCommands = ["\\frac", "\\sum", "\\int", "\\sqrt", "\\lim", "\\prod", "\\forall", "\\exists", "\\mathbb"];

    /// <summary>The complexity of a prompt (the last user turn's text).</summary>
    public static Complexity Classify(ReadOnlySpan<char> prompt) => Score(prompt) >= Threshold ? Complexity.High : Complexity.Low;

    /// <summary>The logistic score behind <see cref="Classify"/>, 0 to 1; at or above <see cref="Threshold"/> is High.</summary>
    public static double Score(ReadOnlySpan<char> prompt)
    {
        Span<double> features = stackalloc double[FeatureNames.Length];
        Features(prompt, features);
        var logit = Bias;
        for (var i = 0; i < features.Length; i++)
        {
            logit += Weights[i] * features[i];
        }

        return 1 / (1 + Math.Exp(-logit));
    }

    /// <summary>The feature values of a prompt, in the order of <see cref="FeatureNames"/> (for tests and docs).</summary>
    public static void Features(ReadOnlySpan<char> prompt, Span<double> features)
    {
        features.Clear();
        var whole = prompt.Length <= WholeUpTo;
        var regionLength = whole ? prompt.Length : (2 * Window) + 1;
        char[]? rented = null;
        var region = regionLength <= 1024 ? stackalloc char[regionLength] : (rented = ArrayPool<char>.Shared.Rent(regionLength));
        region = region[..regionLength];
        try
        {
            // The instruction part, lowercased once: the whole prompt, or its head and tail with a line break between them.
            if (whole)
            {
                prompt.ToLowerInvariant(region);
            }
            else
            {
                prompt[..Window].ToLowerInvariant(region);
                region[Window] = '\n';
                prompt[^Window..].ToLowerInvariant(region[(Window + 1)..]);
            }

            ReadOnlySpan<char> text = region;
            var cues = Lexicons.Length;
            for (var i = 0; i < cues; i++)
            {
                features[i] = Math.Min(CountTerms(text, Lexicons[i]), ComplexityLexicon.All[i].Cap);
            }

            var code = HasCode(prompt, text);
            features[cues] = code ? 1 : 0;
            features[cues + 1] = code && CountTerms(text, Bugs) > 0 ? 1 : 0;
            features[cues + 2] = Math.Min(CountMathSymbols(text), MathSymbolCap);
            features[cues + 3] = Math.Clamp(text.Count('?') + text.Count('？') - 1, 0, QuestionCap);
            features[cues + 4] = Math.Clamp(CountListLines(text) - 1, 0, RequirementCap);
            features[cues + 5] = Math.Min(Math.Log2(1 + (prompt.Length / 200.0)), LengthCap);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>How many different terms of a lexicon occur in the text.</summary>
    private static int CountTerms(ReadOnlySpan<char> text, Term[] terms)
    {
        var count = 0;
        foreach (var term in terms)
        {
            if (Contains(text, term))
            {
                count++;
            }
        }

        return count;
    }

    private static bool Contains(ReadOnlySpan<char> text, Term term)
    {
        var from = 0;
        while (from < text.Length)
        {
            var at = text[from..].IndexOf(term.Text, StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }

            at += from;
            var end = at + term.Text.Length;
            if ((!term.WordStart || at == 0 || !char.IsLetterOrDigit(text[at - 1]))
                && (!term.WordEnd || end == text.Length || !char.IsLetterOrDigit(text[end])))
            {
                return true;
            }

            from = at + 1;
        }

        return false;
    }

    /// <summary>A code fence, or several statement characters, anywhere in the prompt (a cheap vectorized count).</summary>
    private static bool HasCode(ReadOnlySpan<char> prompt, ReadOnlySpan<char> region) =>
        prompt.Contains("```", StringComparison.Ordinal)
        || prompt.Count(';') + prompt.Count('{') + prompt.Count('}') >= 4
        || region.Contains("def ", StringComparison.Ordinal)
        || region.Contains("#include", StringComparison.Ordinal);

    private static int CountMathSymbols(ReadOnlySpan<char> text)
    {
        var count = 0;
        var rest = text;
        int at;
        while ((at = rest.IndexOfAny(MathSymbols)) >= 0)
        {
            count++;
            rest = rest[(at + 1)..];
        }

        foreach (var command in LatexCommands)
        {
            if (text.Contains(command, StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Lines that start (after spaces) with a bullet or a number followed by <c>.</c> or <c>)</c>.</summary>
    private static int CountListLines(ReadOnlySpan<char> text)
    {
        var count = 0;
        foreach (var range in text.Split('\n'))
        {
            var line = text[range].TrimStart();
            if (line.Length < 2)
            {
                continue;
            }

            if (line[0] is '-' or '*' or '•' && line[1] == ' ')
            {
                count++;
            }
            else if (char.IsAsciiDigit(line[0]))
            {
                var digits = 1;
                while (digits < line.Length && char.IsAsciiDigit(line[digits]))
                {
                    digits++;
                }

                if (digits < line.Length && line[digits] is '.' or ')' or '、')
                {
                    count++;
                }
            }
        }

        return count;
    }

    private static Term[] Compile(string[] terms) =>
    [
        .. terms.Distinct(StringComparer.Ordinal).Select(t =>
        {
            var wordEnd = t.EndsWith('$');
            var text = wordEnd ? t[..^1] : t;
            return new Term(text, WordStart: text[0] < '\u2E80', WordEnd: wordEnd);
        }),
    ];

    /// <summary>A compiled cue term: its text, and whether it must start and end a word.</summary>
    private readonly record struct Term(string Text, bool WordStart, bool WordEnd);
}
