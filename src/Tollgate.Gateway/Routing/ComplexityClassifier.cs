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
/// The lexical prompt-complexity model v3 (docs/complexity.md), the first part of the gateway's classifier v4
/// (<see cref="ComplexityModel"/>, which routes use): a logistic model over hand-designed, documented
/// features (cue lexicons in English, Chinese, German and Spanish, and a few structural counts), run in process on
/// the CPU in microseconds. Long prompts are judged by their instruction part, the first and last
/// <see cref="Window"/> characters, so that a pasted page weighs no more than its first and last lines.
/// </summary>
internal static class ComplexityClassifier
{
    /// <summary>
    /// Scores at or above this are <see cref="Complexity.High"/>. Below 0.5 on purpose: a hard prompt sent to a small
    /// model costs answer quality, an easy one sent to a big model only money, so recall of hard prompts comes first.
    /// </summary>
    public const double Threshold = 0.4;

    /// <summary>The logit with no feature present: a prompt with no cue at all is Low.</summary>
    public const double Bias = -1.1;

    /// <summary>Characters read from each end of a long prompt; prompts up to <see cref="WholeUpTo"/> are read whole.</summary>
    public const int Window = 400;

    /// <summary>Prompts up to this length are read whole.</summary>
    public const int WholeUpTo = 1000;

    /// <summary>Weight of <c>code</c>: the prompt contains code (a fence, or several of <c>; { }</c>).</summary>
    public const double CodeWeight = 0.4;

    /// <summary>Weight of <c>code+bug</c>: code together with a fault to find (bug, error, crash, wrong output).</summary>
    public const double CodeBugWeight = 1.0;

    /// <summary>
    /// Weight of <c>word-problem</c>: a quantitative word problem, three or more numbers in prose (no code) together
    /// with a rate, percentage, interest, speed or probability word.
    /// </summary>
    public const double WordProblemWeight = 1.6;

    /// <summary>
    /// Weight of <c>math-symbols</c>, per symbol (∑ ∫ √ ≤ ≥ ≠ ∞ ∀ ∃ ∈ ∂ ^, LaTeX commands, and <c>=</c> in a prompt without
    /// code: equations), capped at 4.
    /// </summary>
    public const double MathSymbolWeight = 0.6;

    /// <summary>Weight of <c>questions</c>: each question mark after the first, capped at 3.</summary>
    public const double QuestionWeight = 0.4;

    /// <summary>Weight of <c>requirements</c>: each numbered or bulleted line after the first, capped at 4.</summary>
    public const double RequirementWeight = 0.25;

    /// <summary>Weight of <c>length</c>: log2(1 + characters / 200), capped at 3, so length alone never decides.</summary>
    public const double LengthWeight = 0.15;

    private const int MathSymbolCap = 4;
    private const int QuestionCap = 3;
    private const int RequirementCap = 4;
    private const double LengthCap = 3;

    /// <summary>The names of the features, in the order of <see cref="Features"/> and <see cref="Weights"/>.</summary>
    public static readonly string[] FeatureNames =
        [.. ComplexityLexicon.All.Select(c => c.Name), "code", "code+bug", "word-problem", "math-symbols", "questions", "requirements", "length"];

    /// <summary>The logit weight of each feature, in the order of <see cref="FeatureNames"/>.</summary>
    public static readonly double[] Weights =
        [.. ComplexityLexicon.All.Select(c => c.Weight), CodeWeight, CodeBugWeight, WordProblemWeight, MathSymbolWeight, QuestionWeight, RequirementWeight, LengthWeight];

    /// <summary>Cues of a fault in code, for <c>code+bug</c>.</summary>
    private static readonly string[] BugTerms =
    [
        "bug", "error", "exception", "crash", "fails", "failing", "wrong", "doesn't work", "does not work", "broken", "hangs",
        "错误", "报错", "异常", "崩溃", "不工作", "不对", "卡住",
        "fehler", "ausnahme", "absturz", "stürzt", "funktioniert nicht", "falsch", "hängt",
        "error", "excepción", "falla", "no funciona", "incorrect", "se cuelga",
        "infinite loop", "traceback", "stack trace", "panic", "leak", "死循环", "无限循环", "泄漏", "endlos", "leck", "bucle infinito", "infinito", "fuga",
    ];

    /// <summary>Rates, percentages, interest, speeds and chances: with several numbers in prose, a word problem.</summary>
    private static readonly string[] RateTerms =
    [
        "%", "percent", "interest", "compound", "per hour", "per day", "per month", "per year", "km/h", "mph$", "an hour", "a day$",
        "each day", "every day", "each night", "monthly", "annual", "yearly", "rate$", "speed", "probability", "chance", "odds$",
        "average", "twice as", "times as", "faster", "slower", "doubles", "ratio",
        "百分", "利率", "利息", "复利", "年利", "每天", "每小时", "每月", "每年", "速度", "概率", "平均", "倍", "相遇",
        "zins", "jahreszins", "verzins", "prozent", "pro stunde", "pro tag", "pro monat", "pro jahr", "täglich", "monatlich", "jährlich",
        "geschwindigkeit", "wahrscheinlich", "durchschnitt", "doppelt so", "mal so", "rate$", "raten$",
        "interés", "por ciento", "por hora", "al día", "cada día", "al mes", "al año", "mensual", "anual", "velocidad", "probabilidad",
        "promedio", "el doble", "veces", "capitalización", "tasa",
    ];

    private static readonly SearchValues<char> MathSymbols = SearchValues.Create("∑∫∮√≤≥≠≈≡∞∀∃∈∉⊂⊆∪∩∂∇∏⇒⇔→^");

    /// <summary>Every cue term of every group (then the bug terms and the rate terms as two more groups), each with its group.</summary>
    private static readonly Term[] Terms = Compile([.. ComplexityLexicon.All.Select(c => c.Terms), BugTerms, RateTerms]);

    /// <summary>All term texts in one multi-string searcher: one vectorized pass over the text finds every candidate.</summary>
    private static readonly SearchValues<string> AnyTerm = SearchValues.Create(
        [.. Terms.Select(t => t.Text).Distinct(StringComparer.Ordinal)], StringComparison.Ordinal);

    /// <summary>
    /// The terms by their first character, longest first, to tell which terms start at a candidate position (and to
    /// count only the longest of a group there).
    /// </summary>
    private static readonly Dictionary<char, Term[]> TermsByFirst =
        Terms.GroupBy(t => t.Text[0]).ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Text.Length).ToArray());

    private static readonly int BugGroup = ComplexityLexicon.All.Length;

    private static readonly int RateGroup = BugGroup + 1;

    /// <summary>Numbers in prose from which a prompt with a rate term counts as a word problem.</summary>
    private const int WordProblemNumbers = 3;

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
            var code = HasCode(prompt, text);
            Span<int> hits = stackalloc int[RateGroup + 1];
            CountTerms(text, hits, code);
            var cues = BugGroup;
            for (var i = 0; i < cues; i++)
            {
                features[i] = Math.Min(hits[i], ComplexityLexicon.All[i].Cap);
            }

            features[cues] = code ? 1 : 0;
            features[cues + 1] = code && hits[BugGroup] > 0 ? 1 : 0;
            features[cues + 2] = !code && hits[RateGroup] > 0 && CountNumbers(text) >= WordProblemNumbers ? 1 : 0;
            features[cues + 3] = Math.Min(CountMathSymbols(text) + Equations(text, code), MathSymbolCap);
            features[cues + 4] = Math.Clamp(text.Count('?') + text.Count('？') - 1, 0, QuestionCap);
            features[cues + 5] = Math.Clamp(CountListLines(text) - 1, 0, RequirementCap);
            features[cues + 6] = Math.Min(Math.Log2(1 + (prompt.Length / 200.0)), LengthCap);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Counts, per group, the different terms that occur in the text at a word boundary: candidates come from one
    /// multi-string search; each term is counted once however often it occurs.
    /// </summary>
    private static void CountTerms(ReadOnlySpan<char> text, Span<int> hits, bool code)
    {
        Span<bool> seen = Terms.Length <= 2048 ? stackalloc bool[Terms.Length] : new bool[Terms.Length];
        var from = 0;
        while (from < text.Length)
        {
            var at = text[from..].IndexOfAny(AnyTerm);
            if (at < 0)
            {
                break;
            }

            at += from;
            var groupsMatchedHere = 0L; // at one position, only the longest matching term of a group counts
            foreach (var term in TermsByFirst[text[at]])
            {
                var groupBit = 1L << term.Group;
                if ((groupsMatchedHere & groupBit) != 0 || (code && term.ProseOnly) || !Matches(text, at, term))
                {
                    continue;
                }

                groupsMatchedHere |= groupBit;
                if (!seen[term.Index])
                {
                    seen[term.Index] = true;
                    hits[term.Group]++;
                }
            }

            from = at + 1;
        }
    }

    private static bool Matches(ReadOnlySpan<char> text, int at, Term term)
    {
        if (!text[at..].StartsWith(term.Text, StringComparison.Ordinal))
        {
            return false;
        }

        var end = at + term.Text.Length;
        return (!term.WordStart || at == 0 || !IsLatinWordChar(text[at - 1]))
            && (!term.WordEnd || end == text.Length || !IsLatinWordChar(text[end]))
            && (!term.LineStart || text[..at].TrimEnd(' ') is var before && (before.Length == 0 || before[^1] == '\n'));
    }

    /// <summary>A letter or digit of a word-spaced script: a CJK character next to a Latin term is a word boundary (<c>JWT存在</c>).</summary>
    private static bool IsLatinWordChar(char c) => c < '\u2E80' && char.IsLetterOrDigit(c);

    /// <summary>
    /// A code fence, several statement characters, or a stack trace anywhere in the prompt (cheap vectorized searches).
    /// </summary>
    private static bool HasCode(ReadOnlySpan<char> prompt, ReadOnlySpan<char> region) =>
        prompt.Contains("```", StringComparison.Ordinal)
        || prompt.Contains("Traceback (most recent call last)", StringComparison.Ordinal)
        || prompt.Contains("\n\tat ", StringComparison.Ordinal)
        || prompt.Contains("\n    at ", StringComparison.Ordinal)
        || prompt.Count(';') + prompt.Count('{') + prompt.Count('}') >= 4
        || region.Contains("def ", StringComparison.Ordinal)
        || region.Contains("#include", StringComparison.Ordinal);

    /// <summary>Runs of digits (<c>100.000</c>, <c>2,5</c> and <c>1 000</c> count as one number).</summary>
    private static int CountNumbers(ReadOnlySpan<char> text)
    {
        var count = 0;
        var rest = text;
        int at;
        while ((at = rest.IndexOfAnyInRange('0', '9')) >= 0)
        {
            count++;
            var end = at + 1;
            while (end < rest.Length && (char.IsAsciiDigit(rest[end])
                || (rest[end] is '.' or ',' or ' ' && end + 1 < rest.Length && char.IsAsciiDigit(rest[end + 1]) && rest[end] != ' ')))
            {
                end++;
            }

            rest = rest[end..];
        }

        return count;
    }

    /// <summary>Equals signs in a prompt without code, when there are two or more: a system of equations.</summary>
    private static int Equations(ReadOnlySpan<char> text, bool code) => code || text.Count('=') is var n && n < 2 ? 0 : n;

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

    private static Term[] Compile(string[][] groups)
    {
        var terms = new List<Term>();
        for (var group = 0; group < groups.Length; group++)
        {
            foreach (var raw in groups[group].Distinct(StringComparer.Ordinal))
            {
                var proseOnly = raw.StartsWith('~');
                var lineStart = raw.StartsWith('^');
                var wordEnd = raw.EndsWith('$');
                var text = raw[(lineStart || proseOnly ? 1 : 0)..(wordEnd ? ^1 : ^0)];
                terms.Add(new Term(text, group, terms.Count, WordStart: char.IsLetterOrDigit(text[0]) && text[0] < '\u2E80', WordEnd: wordEnd, LineStart: lineStart, ProseOnly: proseOnly));
            }
        }

        return [.. terms];
    }

    /// <summary>
    /// A compiled cue term: its text, group, index, whether it must start and end a word or start a line, and whether it
    /// counts only in a prompt without code.
    /// </summary>
    private readonly record struct Term(string Text, int Group, int Index, bool WordStart, bool WordEnd, bool LineStart, bool ProseOnly);
}
