using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The semantic cache's guard against false friends: two prompts whose embeddings are close (cosine above the policy's
/// threshold) may still ask different things. Sentence embeddings barely see a "not", a swapped antonym, another number
/// or another name, so a candidate above the threshold is served only when this guard finds none of these differences
/// (docs/semantic-cache.md):
/// <list type="bullet">
/// <item>numbers: the sets of numbers differ (digits in any common notation, number words in en/de/es, Chinese numerals;
/// the value 1 is ignored, since "a pound" and "one pound" ask the same);</item>
/// <item>negation: a different count of negations (en, de, es, zh), or a negation that applies to other words;</item>
/// <item>contrast: both mention a term of one contrast group (largest/smallest, import/export, Celsius/Fahrenheit…)
/// but not the same members of it: curated antonyms and units in all four languages;</item>
/// <item>entities: each prompt names something the other does not (capitalized words not at a sentence start,
/// acronyms, mixed-case and alphanumeric names, a lexicon of lowercase names such as python or sodium); for Chinese,
/// the two prompts differ by one short run of content characters (李白 / 苏轼, 上海 / 广州);</item>
/// <item>order: the same words with two parts swapped around a relation ("did Google acquire YouTube" / "did YouTube
/// acquire Google", "JSON to dict" / "dict to JSON"); a plain rotation ("in Python, how…" / "how… in Python") passes.</item>
/// </list>
/// Plain code, no regular expressions, linear in the prompts' length except the order check, which only runs on two
/// prompts with the same words and is bounded.
/// </summary>
internal static class SemanticGuard
{
    /// <summary>True when the guard finds no difference that would make the stored answer wrong for the incoming prompt.</summary>
    public static bool Compatible(string stored, string incoming) => Conflict(stored, incoming) is null;

    /// <summary>The first difference found (<c>number</c>, <c>negation</c>, <c>antonym</c>, <c>unit</c>, <c>entity</c>,
    /// <c>order</c>), or null when the prompts are compatible.</summary>
    public static string? Conflict(string stored, string incoming)
    {
        if (string.Equals(stored, incoming, StringComparison.Ordinal))
        {
            return null;
        }

        var a = Analysis.Of(stored);
        var b = Analysis.Of(incoming);
        if (!a.Numbers.SetEquals(b.Numbers))
        {
            return "number";
        }

        if (!SameNegations(a.Negations, b.Negations))
        {
            return "negation";
        }

        for (var g = 0; g < Lexicon.Groups.Length; g++)
        {
            var (x, y) = (a.Contrasts[g], b.Contrasts[g]);
            if (x != 0 && y != 0 && x != y)
            {
                return Lexicon.Groups[g].Kind;
            }
        }

        if (DifferentEntities(a, b) || DifferentCjkTerm(a, b))
        {
            return "entity";
        }

        return Swapped(a.Content, b.Content) ? "order" : null;
    }

    // ---------------------------------------------------------------- checks

    /// <summary>Each negation of one prompt must have one in the other that applies to a common word.</summary>
    private static bool SameNegations(List<string[]> a, List<string[]> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        // Usually the negations line up one to one; only a mismatch searches the other side.
        for (var i = 0; i < a.Count; i++)
        {
            if (!Overlap(a[i], b[i]) && (!b.Exists(y => Overlap(a[i], y)) || !a.Exists(x => Overlap(x, b[i]))))
            {
                return false;
            }
        }

        return true;

        static bool Overlap(string[] x, string[] y) =>
            (x.Length == 0 && y.Length == 0) || x.Any(w => Array.IndexOf(y, w) >= 0);
    }

    /// <summary>Each prompt names something the other does not mention at all: a substitution, not an addition.</summary>
    private static bool DifferentEntities(Analysis a, Analysis b) =>
        a.Entities.Any(e => !b.Words.Contains(e)) && b.Entities.Any(e => !a.Words.Contains(e));

    /// <summary>
    /// Chinese has no capitals: after dropping particles, fillers and numerals and unifying question words, two prompts
    /// that differ by one run of one to four content characters on each side (no function character in either) name
    /// different things (上海 / 广州, 李白 / 苏轼). Longer or mixed differences are rewordings and pass.
    /// </summary>
    private static bool DifferentCjkTerm(Analysis a, Analysis b)
    {
        if (a.Cjk.Count == 0 || b.Cjk.Count == 0)
        {
            return false;
        }

        var (x, y) = (a.Cjk, b.Cjk);
        var start = 0;
        while (start < x.Count && start < y.Count && x[start] == y[start])
        {
            start++;
        }

        var end = 0;
        while (end < x.Count - start && end < y.Count - start && x[x.Count - 1 - end] == y[y.Count - 1 - end])
        {
            end++;
        }

        var (nx, ny) = (x.Count - start - end, y.Count - start - end);
        if (nx is < 1 or > 4 || ny is < 1 or > 4)
        {
            return false;
        }

        for (var i = 0; i < nx; i++)
        {
            if (x[start + i] is '\0' || Lexicon.CjkFunction.Contains(x[start + i]))
            {
                return false;
            }
        }

        for (var i = 0; i < ny; i++)
        {
            if (y[start + i] is '\0' || Lexicon.CjkFunction.Contains(y[start + i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The same content words, where one prompt is the other with two parts X and Y swapped around a non-empty middle M
    /// (X M Y / Y M X). Symmetric words (and, or, vs, 和) are not content, so "TCP and UDP" / "UDP and TCP" is a rotation.
    /// </summary>
    private static bool Swapped(List<string> a, List<string> b)
    {
        if (a.Count != b.Count || a.Count < 3)
        {
            return false;
        }

        var start = 0;
        while (start < a.Count && string.Equals(a[start], b[start], StringComparison.Ordinal))
        {
            start++;
        }

        if (start == a.Count)
        {
            return false;
        }

        var end = 0;
        while (string.Equals(a[a.Count - 1 - end], b[b.Count - 1 - end], StringComparison.Ordinal))
        {
            end++;
        }

        var n = a.Count - start - end;
        if (n < 3 || n > 48)
        {
            return false;
        }

        var x = a.GetRange(start, n);
        var y = b.GetRange(start, n);
        var sorted = x.Order(StringComparer.Ordinal).SequenceEqual(y.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        if (!sorted)
        {
            return false;
        }

        // x = X M Y with |X| = i, |M| = j - i ≥ 1, |Y| = n - j ≥ 1; y must be Y M X.
        for (var i = 1; i < n - 1; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var yLen = n - j;
                var match = true;
                for (var k = 0; k < n && match; k++)
                {
                    // Position k of y, as a position of x: Y (x[j..]), then M (x[i..j]), then X (x[..i]).
                    var from = k < yLen ? j + k : k < yLen + (j - i) ? i + (k - yLen) : k - yLen - (j - i);
                    match = string.Equals(y[k], x[from], StringComparison.Ordinal);
                }

                if (match)
                {
                    return true;
                }
            }
        }

        return false;
    }

    // ---------------------------------------------------------------- analysis

    private readonly record struct Token(string Text, string Lower, bool SentenceStart, bool Cjk, bool AfterDegree);

    private sealed class Analysis
    {
        public HashSet<string> Numbers { get; } = new(StringComparer.Ordinal);

        /// <summary>One entry per negation: the content words it may apply to.</summary>
        public List<string[]> Negations { get; } = [];

        /// <summary>Per contrast group, the bit set of its classes the prompt mentions.</summary>
        public int[] Contrasts { get; } = new int[Lexicon.Groups.Length];

        public HashSet<string> Entities { get; } = new(StringComparer.Ordinal);

        /// <summary>Every Latin word, lowercased (entities are looked up here, so "CSS" matches "css").</summary>
        public HashSet<string> Words { get; } = new(StringComparer.Ordinal);

        /// <summary>Content words and Chinese characters in order, for the order check.</summary>
        public List<string> Content { get; } = [];

        /// <summary>Chinese characters without particles and numerals, question words unified; a Latin word is '\0'.</summary>
        public List<char> Cjk { get; } = [];

        public static Analysis Of(string text)
        {
            var result = new Analysis();
            var tokens = Tokenize(text);
            result.ReadNumbers(tokens);
            result.ReadNegations(tokens, text);
            result.ReadContrasts(tokens, text);
            foreach (var token in tokens)
            {
                if (token.Cjk)
                {
                    if (!Lexicon.Symmetric.Contains(token.Lower) && !Lexicon.CjkParticles.Contains(token.Lower[0]))
                    {
                        result.Content.Add(token.Lower);
                    }

                    continue;
                }

                if (token.Lower == ",")
                {
                    result.Content.Add(token.Lower);
                    continue;
                }

                result.Words.Add(Stem(token.Lower));
                if (IsEntity(token))
                {
                    result.Entities.Add(Stem(token.Lower));
                }

                if ((!Lexicon.Stop.Contains(token.Lower) || Lexicon.Clause.Contains(token.Lower)) && !Lexicon.Symmetric.Contains(token.Lower))
                {
                    result.Content.Add(token.Lower);
                }
            }

            if (result.Content.Exists(c => c.Length == 1 && IsCjk(c[0])))
            {
                result.ReadCjk(text);
            }

            return result;
        }

        private void ReadNumbers(List<Token> tokens)
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                var token = tokens[i];
                if (token.Cjk)
                {
                    if (Lexicon.CjkNumerals.ContainsKey(token.Lower[0]))
                    {
                        var j = i;
                        while (j < tokens.Count && tokens[j].Cjk && Lexicon.CjkNumerals.ContainsKey(tokens[j].Lower[0]))
                        {
                            j++;
                        }

                        var run = j - i == 1 ? token.Lower : string.Concat(tokens.GetRange(i, j - i).Select(t => t.Lower));
                        var next = j < tokens.Count ? tokens[j].Lower : "";
                        var previous = i > 0 ? tokens[i - 1].Lower : "";
                        if (!NotANumber(run, previous, next))
                        {
                            Add(CjkValue(run));
                        }

                        i = j - 1;
                    }

                    continue;
                }

                if (char.IsAsciiDigit(token.Lower[0]))
                {
                    var value = Digits(token.Lower);
                    if (i + 1 < tokens.Count && Lexicon.Scales.TryGetValue(tokens[i + 1].Lower, out var scale)
                        && decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                    {
                        value = (number * scale).ToString("0.############", CultureInfo.InvariantCulture);
                        i++;
                    }

                    Add(value);
                    continue;
                }

                if (Lexicon.NumberWords.ContainsKey(token.Lower) || Lexicon.Scales.ContainsKey(token.Lower))
                {
                    long total = 0, current = 0;
                    var j = i;
                    for (; j < tokens.Count; j++)
                    {
                        var word = tokens[j].Lower;
                        if (Lexicon.NumberWords.TryGetValue(word, out var v))
                        {
                            current = v == 100 && word is "hundred" or "hundert" ? Math.Max(current, 1) * 100 : current + v;
                        }
                        else if (Lexicon.Scales.TryGetValue(word, out var s) && !tokens[j].Cjk)
                        {
                            total += Math.Max(current, 1) * (long)s;
                            current = 0;
                        }
                        else if (word is "and" or "y" or "und" && j + 1 < tokens.Count && Lexicon.NumberWords.ContainsKey(tokens[j + 1].Lower) && j > i)
                        {
                            continue;
                        }
                        else
                        {
                            break;
                        }
                    }

                    Add((total + current).ToString(CultureInfo.InvariantCulture));
                    i = j - 1;
                }
            }
        }

        private void Add(string number)
        {
            if (number is not ("1" or ""))
            {
                Numbers.Add(number);
            }
        }

        private void ReadNegations(List<Token> tokens, string text)
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                var token = tokens[i];
                if (token.Cjk)
                {
                    continue;
                }

                if (!Lexicon.Negations.Contains(token.Lower))
                {
                    continue;
                }

                var next = i + 1 < tokens.Count ? tokens[i + 1].Lower : "";
                var previous = i > 0 ? tokens[i - 1].Lower : "";
                if (next is "only" or "nur" or "solo" or "sólo" or "just" || (token.Lower == "not" && previous == "or" && i > 1 && tokens[i - 2].Lower == "whether")
                    || (token.Lower == "no" && next.Length > 0 && char.IsAsciiDigit(next[0])))
                {
                    continue;
                }

                var heads = new List<string>(3);
                for (var j = i + 1; j < tokens.Count && heads.Count < 3 && !tokens[j].SentenceStart; j++)
                {
                    if (!tokens[j].Cjk && tokens[j].Lower != "," && !Lexicon.Stop.Contains(tokens[j].Lower) && !Lexicon.Negations.Contains(tokens[j].Lower))
                    {
                        heads.Add(Stem(tokens[j].Lower));
                    }
                }

                Negations.Add([.. heads]);
            }

            // Chinese: 不 没(有) 非 别 无 未 勿, except in compounds where they do not negate (非常, 别人, 无论, 是不是…).
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c is not ('不' or '没' or '非' or '别' or '无' or '未' or '勿' or '莫') || Lexicon.CjkNotNegations.Any(e => Covers(text, i, e)))
                {
                    continue;
                }

                var previous = i > 0 ? text[i - 1] : '\0';
                var next = i + 1 < text.Length ? text[i + 1] : '\0';
                if (previous != '\0' && previous == next || (c == '没' && next == '有' && i > 0 && previous == '有'))
                {
                    continue; // A-not-A question: 是不是, 能不能, 有没有
                }

                var at = c == '没' && next == '有' ? i + 2 : i + 1;
                var heads = new List<string>(2);
                for (var j = at; j < text.Length && j < at + 2 && IsCjk(text[j]); j++)
                {
                    heads.Add(text[j].ToString());
                }

                Negations.Add([.. heads]);
                i = at - 1;
            }
        }

        private static bool Covers(string text, int at, string exception)
        {
            for (var k = 0; k < exception.Length; k++)
            {
                if (exception[k] == text[at] && at - k >= 0 && at - k + exception.Length <= text.Length
                    && text.AsSpan(at - k, exception.Length).SequenceEqual(exception))
                {
                    return true;
                }
            }

            return false;
        }

        private void ReadContrasts(List<Token> tokens, string text)
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                var token = tokens[i];
                if (token.Cjk)
                {
                    continue;
                }

                if (token.Lower is "least" && i > 0 && tokens[i - 1].Lower == "at")
                {
                    continue;
                }

                if (token.AfterDegree && token.Lower is "c" or "f")
                {
                    Mark(Lexicon.Exact[token.Lower == "c" ? "°c" : "°f"]);
                    continue;
                }

                if (Lexicon.Exact.TryGetValue(token.Lower, out var hits))
                {
                    Mark(hits);
                }

                if (Lexicon.Prefixes.TryGetValue(token.Lower[0], out var prefixes))
                {
                    foreach (var (prefix, hit) in prefixes)
                    {
                        if (token.Lower.StartsWith(prefix, StringComparison.Ordinal))
                        {
                            Mark(hit);
                        }
                    }
                }
            }

            for (var i = 0; i < text.Length; i++)
            {
                if (Lexicon.Substrings.TryGetValue(text[i], out var terms))
                {
                    foreach (var (term, hit) in terms)
                    {
                        if (text.AsSpan(i).StartsWith(term, StringComparison.Ordinal))
                        {
                            Mark(hit);
                        }
                    }
                }
            }
        }

        private void Mark((int Group, int Class)[] hits)
        {
            foreach (var hit in hits)
            {
                Mark(hit);
            }
        }

        private void Mark((int Group, int Class) hit) => Contrasts[hit.Group] |= 1 << hit.Class;

        private void ReadCjk(string text)
        {
            var normalized = new StringBuilder(text);
            foreach (var (from, to) in Lexicon.CjkRewrites)
            {
                normalized.Replace(from, to);
            }

            var previousLatin = false;
            foreach (var c in normalized.ToString())
            {
                if (IsCjk(c))
                {
                    previousLatin = false;
                    if (!Lexicon.CjkParticles.Contains(c) && !Lexicon.CjkNumerals.ContainsKey(c))
                    {
                        Cjk.Add(c);
                    }
                }
                else if (char.IsLetter(c))
                {
                    if (!previousLatin)
                    {
                        Cjk.Add('\0');
                    }

                    previousLatin = true;
                }
                else
                {
                    previousLatin = false;
                }
            }
        }
    }

    private static bool IsEntity(Token token)
    {
        var text = token.Text;
        if (Lexicon.Names.Contains(token.Lower) || Lexicon.Names.Contains(Stem(token.Lower)))
        {
            return true;
        }

        if (char.IsAsciiDigit(text[0]) || text is "I")
        {
            return false;
        }

        var upper = 0;
        var letters = false;
        var digits = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsUpper(text[i]))
            {
                upper++;
                if (i > 0)
                {
                    return true; // NASA, iPhone, PostgreSQL
                }
            }

            letters |= char.IsLetter(text[i]);
            digits |= char.IsAsciiDigit(text[i]);
        }

        if (letters && digits)
        {
            return true; // S3, mp3
        }

        return upper > 0 && !token.SentenceStart;
    }

    /// <summary>Latin words (with their inner dots, apostrophes, underscores and a trailing + or #) and single Chinese characters.</summary>
    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>(Math.Min(text.Length / 4 + 4, 512));
        var sentenceStart = true;
        var afterDegree = false;
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            if (IsCjk(c))
            {
                tokens.Add(new Token(c.ToString(), c.ToString(), false, true, false));
                sentenceStart = false;
                afterDegree = false;
                i++;
                continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                var j = i;
                var plain = true; // no full-width digit, no typographic apostrophe: the word is a plain substring
                for (; j < text.Length; j++)
                {
                    var d = text[j];
                    if (char.IsLetterOrDigit(d) && !IsCjk(d))
                    {
                        plain &= !char.IsDigit(d) || char.IsAsciiDigit(d);
                    }
                    else if (d is '.' or ',' or '\'' or '’' or '_' && j + 1 < text.Length && char.IsLetterOrDigit(text[j + 1]) && !IsCjk(text[j + 1])
                        && (d is not ',' || (char.IsDigit(text[j - 1]) && char.IsDigit(text[j + 1]))))
                    {
                        plain &= d != '’';
                    }
                    else if (d is '+' or '#' && char.IsLetter(text[j - 1]) && (j + 1 >= text.Length || !char.IsLetterOrDigit(text[j + 1])))
                    {
                        while (j < text.Length && text[j] is '+' or '#')
                        {
                            j++;
                        }

                        break;
                    }
                    else
                    {
                        break;
                    }
                }

                var word = plain ? text[i..j] : string.Create(j - i, (text, i), static (span, state) =>
                {
                    for (var k = 0; k < span.Length; k++)
                    {
                        var d = state.text[state.i + k];
                        span[k] = d == '’' ? '\'' : char.IsDigit(d) ? (char)('0' + CharUnicodeInfo.GetDecimalDigitValue(d)) : d;
                    }
                });
                AddWord(tokens, word, sentenceStart, afterDegree);
                sentenceStart = false;
                afterDegree = false;
                i = j;
                continue;
            }

            if (c is '.' or '?' or '!' or ';' or ':' or '¿' or '¡' or '。' or '？' or '！' or '；' or '：' or '\n')
            {
                sentenceStart = true;
            }

            if (c is ',' or '，' or ';' or '；' or '、')
            {
                tokens.Add(new Token(",", ",", false, false, false)); // a clause boundary, for the order check
            }

            afterDegree = c == '°';
            i++;
        }

        return tokens;
    }

    /// <summary>A word, with English contractions split: doesn't → does not, can't → can not, what's → what.</summary>
    private static void AddWord(List<Token> tokens, string word, bool sentenceStart, bool afterDegree)
    {
        var lower = word.ToLowerInvariant();
        var apostrophe = lower.IndexOf('\'', StringComparison.Ordinal);
        if (apostrophe > 0)
        {
            var suffix = lower[apostrophe..];
            if (suffix == "'t" && lower.EndsWith("n't", StringComparison.Ordinal))
            {
                var stem = lower[..^3] switch { "ca" => "can", "wo" => "will", "sha" => "shall", "ai" => "is", var s => s };
                tokens.Add(new Token(word[..Math.Min(stem.Length, word.Length - 3)], stem, sentenceStart, false, false));
                tokens.Add(new Token("not", "not", false, false, false));
                return;
            }

            if (suffix is "'s" or "'re" or "'m" or "'d" or "'ll" or "'ve")
            {
                tokens.Add(new Token(word[..apostrophe], lower[..apostrophe], sentenceStart, false, false));
                return;
            }
        }

        if (Lexicon.Contracted.TryGetValue(lower, out var full))
        {
            tokens.Add(new Token(word, full, sentenceStart, false, false));
            tokens.Add(new Token("not", "not", false, false, false));
            return;
        }

        tokens.Add(new Token(word, lower, sentenceStart, false, afterDegree));
    }

    /// <summary>A crude singular: cherries → cherry, tomatoes → tomato, dogs → dog (class stays class).</summary>
    private static string Stem(string word) =>
        word.Length <= 3 || word[^1] != 's' || word[^2] is 's' or 'u' or 'i' ? word
        : word.EndsWith("ies", StringComparison.Ordinal) ? word[..^3] + "y"
        : word.EndsWith("oes", StringComparison.Ordinal) ? word[..^2]
        : word[..^1];

    /// <summary>A number as written, with thousands separators dropped and a decimal comma as a point.</summary>
    private static string Digits(string token)
    {
        var end = 0;
        while (end < token.Length && (char.IsAsciiDigit(token[end]) || token[end] is '.' or ','))
        {
            end++;
        }

        var number = token[..end].TrimEnd('.', ',');
        var comma = number.IndexOf(',', StringComparison.Ordinal);
        var dot = number.IndexOf('.', StringComparison.Ordinal);
        if (comma < 0)
        {
            // 1.000.000 (German thousands) has several dots; 3.8 and 20.04 are kept as written.
            return number.Count(ch => ch == '.') > 1 && number.Split('.').Skip(1).All(g => g.Length == 3) ? number.Replace(".", "", StringComparison.Ordinal) : number;
        }

        if (dot < 0)
        {
            return number.Split(',').Skip(1).All(g => g.Length == 3) ? number.Replace(",", "", StringComparison.Ordinal) : number.Replace(',', '.');
        }

        return dot < comma
            ? number.Replace(".", "", StringComparison.Ordinal).Replace(',', '.') // 1.000,5
            : number.Replace(",", "", StringComparison.Ordinal); // 1,000.5
    }

    /// <summary>Numeral characters that are words here: 十分 (very), 万一 (in case), 千万 (by all means), 百度, 一些…</summary>
    private static bool NotANumber(string run, string previous, string next) =>
        (run == "十" && next == "分") || (run == "万" && next == "一") || run == "万一" || (run == "千万" && next is "别" or "不" or "要")
        || (run == "百" && next is "度" or "科" or "货" or "姓") || (run == "三" && next == "星") || previous == "统";

    private static string CjkValue(string run)
    {
        if (run.Length > 1 && run.All(ch => Lexicon.CjkNumerals[ch] < 10))
        {
            return string.Concat(run.Select(ch => (char)('0' + Lexicon.CjkNumerals[ch]))); // 二〇二一
        }

        long total = 0, section = 0, digit = 0;
        foreach (var ch in run)
        {
            var v = Lexicon.CjkNumerals[ch];
            switch (v)
            {
                case < 10:
                    digit = v;
                    break;
                case 10 or 100 or 1000:
                    section += (digit == 0 ? 1 : digit) * v;
                    digit = 0;
                    break;
                default: // 万, 亿
                    total = (total + section + digit) * v;
                    section = digit = 0;
                    break;
            }
        }

        return (total + section + digit).ToString(CultureInfo.InvariantCulture);
    }

    private static bool IsCjk(char c) => c is (>= '\u4E00' and <= '\u9FFF') or (>= '\u3400' and <= '\u4DBF') or '〇';

    // ---------------------------------------------------------------- lexicon

    private static class Lexicon
    {
        public sealed record Group(string Kind, string[][] Classes);

        /// <summary>
        /// Contrast groups: prompts that mention members of one group must mention the same members. Terms are exact words
        /// (with -s/-es/-ed/-ing/-er forms), "prefix*" for inflected de/es words, or Chinese/symbol substrings.
        /// </summary>
        public static readonly Group[] Groups =
        [
            .. Antonyms(
                "largest biggest greatest large big bigger larger huge größte größten größter größtes groß große großen großer größer größere grande grandes mayor mayores enorme 最大 更大 大于 | smallest small smaller tiny tiniest kleinste kleinsten kleiner klein kleine kleinen pequeño pequeña pequeños pequeñas menor menores 最小 更小 小于",
                "increase raise grow growth boost rise rising erhöh* steiger* vergrößer* zunehm* aument* increment* 增加 提高 增大 上涨 上升 升高 加大 | decrease reduce reduction lower shrink decline verringer* senken senkt reduzier* verkleiner* abnehm* disminu* reduc* decrement* 减少 降低 减小 下跌 下降 缩减",
                "before beforehand vorher bevor antes 之前 以前 | after afterwards nachher nachdem después despues 之后 以后",
                "import imports imported importing importer importier* Import importe einfuhr importar importación importaciones 进口 | export exports exported exporting exporter exportier* exporte ausfuhr exportar exportación exportaciones 出口",
                "buy buys bought buying buyer purchase kaufen kauft kaufe kauf comprar compra compro compras 买 购买 买入 | sell sells sold selling seller verkaufen verkauft verkaufe verkauf vender vende vendo venta ventas 卖 出售 卖出",
                "min minimum minimal minimize minimise minimum mínimo mínima minimo minimal* 最少 最低限 | max maximum maximal maximize maximise máximo máxima maximo maximal* 最多 最高限",
                "first earliest erste ersten erster erstes primer primero primera 第一 最早 首个 | last final latest letzte letzten letzter letztes último última ultimo ultima 最后 最晚 最新",
                "add adding added adds insert hinzufüg* füge agregar agrega añadir añade 添加 加入 | remove removal delete deletion erase entfern* lösch* eliminar elimina quitar quita borrar borra 删除 移除 去掉 去除",
                "enable enabled aktivier* einschalt* activar activa activo activas activan habilitar habilita habilito 启用 开启 打开 | disable disabled deaktivier* ausschalt* desactiv* deshabilit* 禁用 关闭 关掉",
                "encrypt encryption encrypted verschlüssel* cifrar encriptar 加密 | decrypt decryption decrypted entschlüssel* descifrar desencriptar 解密",
                "encode encoding encoded | decode decoding decoded",
                "compress compression zip | decompress decompression unzip",
                "serialize serialise serialization | deserialize deserialise deserialization",
                "upload uploading uploaded hochlad* subir 上传 | download downloading downloaded herunterlad* descargar descarga 下载",
                "install installation installier* instalar 安装 | uninstall uninstallation deinstallier* desinstalar 卸载",
                "mount | unmount", "lock | unlock", "subscribe | unsubscribe", "follow | unfollow", "block | unblock", "mute | unmute",
                "advantage pros benefit upside vorteil* ventaja* 优点 好处 优势 | disadvantage cons drawback downside nachteil* desventaja* 缺点 坏处 劣势",
                "hottest warmest hot hotter warm warmer heiß* wärm* warm caliente calientes calor cálido cálida 最热 炎热 | coldest coolest cold colder cool cooler kalt kält* frío fría frio fria 最冷 寒冷",
                "youngest young younger jüng* joven jóvenes 最年轻 | oldest old older elder eldest ält* alt viejo vieja anciano 最老 最年长",
                "newest new newer neu neue neuen neuer neues neuest* nuevo nueva 最新 | oldest old older alt ält* viejo vieja 最旧",
                "tallest tall taller highest high higher hoch hohe hohen höher höchst* alto alta altos altas 最高 | shortest short shorter lowest low lower niedrig* bajo baja bajos bajas 最低 最矮",
                "longest long longer lang lange länger längst* largo larga 最长 | shortest short shorter kurz kürzer kürzest* corto corta 最短",
                "fastest fast faster quick quickest quickly schnell* rápido rápida rapido 最快 | slowest slow slower slowly langsam* lento lenta lentos lentas 最慢",
                "best better beste besten bester bestes mejor mejores 最好 最佳 | worst worse schlechteste* schlimmste* peor peores 最差 最坏 | average",
                "win wins won winning winner victory gewinn* ganar gana ganó ganador 获胜 赢了 赢得 | lose loses lost losing loser defeat verlier* verlor* perder pierde perdió perdedor 输了 输给",
                "open opening opened öffnen offen abrir abre 打开 | close closing closed shut schließen geschlossen cerrar cierra",
                "start starting started begin beginning began starten beginn* anfang* empezar comenzar inicio 开始 | stop stopping stopped end ending ended finish finished stopp* beend* ende terminar fin 结束 停止",
                "front frontend | back backend",
                "push | pull", "input | output", "upper uppercase | lower lowercase",
                "ascending asc aufsteigend* ascendente 升序 | descending desc absteigend* descendente 降序",
                "positive positiv* positivo 正数 | negative negativ* negativo 负数", "true wahr verdadero | false falsch falso",
                "local lokal* | remote | global", "online | offline", "public öffentlich* público | private privat* privado",
                "internal intern | external extern", "inside interior | outside exterior",
                "include including inclusive | exclude excluding exclusive",
                "accept allow permit approve erlaub* permitir 允许 | reject deny forbid prohibit refuse verbiet* prohibir 禁止",
                "above | below beneath", "more mehr más 更多 多于 | less fewer least fewest weniger menos 更少 少于",
                "cheap cheapest cheaper inexpensive billig* günstig* barato barata 便宜 | expensive costly pricey teuer teure teuren caro cara caros caras 昂贵 很贵 更贵 最贵",
                "north northern nord* norte | south southern süd* sur", "east eastern | west western",
                "male men boy boys masculine männlich* hombre hombres 男 | female women woman girl girls feminine weiblich* frau frauen mujer mujeres 女",
                "day daytime día 白天 | night nighttime nacht noche 晚上 夜晚 夜里", "morning | evening",
                "summer sommer verano 夏天 夏季 | winter invierno 冬天 冬季 | spring frühling primavera 春天 | autumn herbst otoño 秋天",
                "send sending sent senden schicken enviar envía 发送 | receive receiving received empfang* recibir recibe 接收",
                "inhale | exhale", "borrow | lend", "success successful succeed | failure fail failed unsuccessful",
                "legal legales | illegal ilegal", "possible möglich posible | impossible unmöglich imposible",
                "valid gültig válido | invalid ungültig inválido", "visible | invisible", "safe safely sicher seguro | unsafe dangerous gefährlich peligroso",
                "healthy gesund sano | unhealthy ungesund", "agree | disagree", "like | dislike", "appear | disappear", "connect | disconnect",
                "correct right richtig correcto 正确 | incorrect wrong falsch incorrecto 错误", "even gerade par | odd ungerade impar",
                "rich richest wealthy reich rico | poor poorest pobre", "strong strongest stark fuerte | weak weakest schwach débil",
                "heavy heaviest schwer pesado | lightest lighter leicht ligero",
                "bright brighter brightest hell heller hellste brillante 更亮 变亮 调亮 | dark darker darkest dim dunkel dunkler dunkelste oscuro 更暗 变暗 调暗",
                "wet nass mojado | dry trocken seco", "full voll lleno | empty leer vacío",
                "easy easiest easier einfach* fácil 简单 容易 | difficult hard hardest harder schwierig* difícil 困难",
                "deep deepest tief tiefste profundo | shallow shallowest flach", "wide widest breit ancho | narrow narrowest schmal estrecho",
                "thick dick grueso | thin dünn delgado",
                "inbound incoming | outbound outgoing", "ingress | egress", "upgrade 升级 | downgrade 降级", "upvote | downvote", "expand | collapse",
                "sync synchronous synchron* síncrono 同步 | async asynchronous asynchron* asíncrono 异步", "client | server",
                "horizontal horizontally horizontal* 水平 横向 | vertical vertically vertikal* senkrecht* 垂直 纵向",
                "row rows zeile zeilen fila filas | column columns spalte spalten columna columnas", "width breite ancho 宽度 | height höhe alto 高度",
                "enter join | exit quit leave", "credit | debit", "profit gewinn ganancia 利润 | loss verlust pérdida 亏损", "income revenue | expense expenses expenditure",
                "asset assets | liability liabilities", "bull bullish | bear bearish", "deposit | withdraw withdrawal",
                "supply | demand", "inflation | deflation", "alkaline alkali | acid acidic",
                "boil boiling siede* ebullición 沸点 | freeze freezing gefrier* congelación 冰点 | melt melting schmelz* fusión 熔点",
                "sunrise sonnenaufgang amanecer 日出 | sunset sonnenuntergang atardecer 日落", "arrival arrive ankunft llegada 到达 | departure depart abfahrt salida 出发",
                "birth born geboren nacimiento 出生 | death died tod gestorben muerte 去世 死亡", "marry married heirat* casarse | divorce divorced scheid* divorcio",
                "always immer siempre 总是 | sometimes occasionally manchmal a veces 有时 | rarely seldom selten raramente",
                "next following nächste* siguiente 下一 下个 | previous prior vorherige* anterior 上一 上个",
                "yesterday gestern ayer 昨天 | today heute hoy 今天 | tomorrow morgen mañana 明天",
                "weekday weekdays werktag* 工作日 | weekend weekends wochenende* 周末", "singular | plural",
                "active aktiv activo | inactive inaktiv inactivo passive", "synonym synonyms | antonym antonyms",
                "prime | composite", "zoom 放大 | 缩小", "sunny | rainy", "login 登录 | logout 退出 注销",
                "same gleich mismo 相同 一样 | different unterschiedlich* diferente 不同 区别"),
            .. Units(
                "celsius centigrade °c ℃ 摄氏 | fahrenheit °f ℉ 华氏 | kelvin",
                "km kms kilometer kilometers kilometre kilometres kilómetro* kilometer* 公里 千米 | mile miles meile* milla millas 英里 | meter meters metre metres metro metros 米 | foot feet ft fuß 英尺 | inch inches zoll pulgada* 英寸 | centimeter* centimetre* cm zentimeter* centímetro* 厘米 | millimeter* millimetre* mm millimètre* milímetro* 毫米 | yard yards yd",
                "kg kgs kilogram kilograms kilogramme kilo kilos kilogramm* kilogramo* 公斤 千克 | pound pounds lb lbs libra libras pfund 磅 | ounce ounces oz onza* unze* 盎司 | gram grams gramme gramo gramos gramm | ton tons tonne tonnes tonelada* 吨",
                "liter liters litre litres litro litros | gallon gallons galón galones gallone* 加仑 | ml milliliter* millilitre* mililitro* 毫升 | cup cups taza tazas tasse* | teaspoon teaspoons tsp teelöffel cucharadita* | tablespoon tablespoons tbsp esslöffel cucharada cucharadas | pint pints | quart quarts",
                "second seconds sec secs segundo segundos sekunde* 秒 | minute minutes minuto minutos minute* 分钟 | hour hours hr hrs hora horas stunde* 小时 | day days tag tage tagen día días | week weeks semana semanas woche* 星期 | month months mes meses monat* 个月 | year years año años jahr jahre jahren",
                "dollar dollars usd $ dólar dólares 美元 | euro euros eur € 欧元 | gbp sterling £ 英镑 | yen jpy ¥ 日元 | yuan rmb cny 人民币 | rupee rupees inr ₹ | franc francs chf | peso pesos | bitcoin btc",
                "mph | kph kmh km/h",
                "kb kilobyte kilobytes | mb megabyte megabytes | gb gigabyte gigabytes | tb terabyte terabytes | byte bytes",
                "calorie calories kcal kalorie* caloría* 卡路里 | joule joules kj kilojoule kilojoules",
                "acre acres | hectare hectares hektar hectárea*"),
        ];

        public static readonly FrozenDictionary<string, (int Group, int Class)[]> Exact;
        /// <summary>Prefix terms by their first character.</summary>
        public static readonly FrozenDictionary<char, (string Prefix, (int Group, int Class) Hit)[]> Prefixes;

        /// <summary>Chinese and symbol terms, matched anywhere in the text, by their first character.</summary>
        public static readonly FrozenDictionary<char, (string Term, (int Group, int Class) Hit)[]> Substrings;

        public static readonly FrozenSet<string> Negations = FrozenSet.ToFrozenSet(
        [
            "not", "no", "never", "without", "none", "nothing", "nobody", "nowhere", "neither", "nor", "cannot",
            "nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "ohne", "nichts", "niemand", "weder",
            "nunca", "jamás", "jamas", "sin", "ningún", "ninguno", "ninguna", "ningun", "nada", "nadie", "tampoco", "ni",
        ], StringComparer.Ordinal);

        /// <summary>Contractions written without the apostrophe: dont → do not.</summary>
        public static readonly FrozenDictionary<string, string> Contracted = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dont"] = "do", ["doesnt"] = "does", ["didnt"] = "did", ["isnt"] = "is", ["arent"] = "are", ["wasnt"] = "was",
            ["werent"] = "were", ["cant"] = "can", ["couldnt"] = "could", ["shouldnt"] = "should", ["wouldnt"] = "would",
            ["havent"] = "have", ["hasnt"] = "has", ["hadnt"] = "had", ["wont"] = "will", ["mustnt"] = "must",
        }.ToFrozenDictionary(StringComparer.Ordinal);

        /// <summary>Compounds in which a Chinese negation character does not negate.</summary>
        public static readonly string[] CjkNotNegations =
        [
            "非常", "无论", "不过", "不但", "不仅", "不管", "别人", "别的", "别处", "特别", "区别", "差别", "识别", "类别", "级别", "告别",
            "性别", "分别", "个别", "鉴别", "辨别", "无线", "无聊", "无限", "无人机", "未来", "不错", "不断", "不少", "不同", "除非", "莫非",
            "非洲", "南非", "不久", "不得不", "差不多", "了不起", "对不起", "不好意思", "没关系", "无所谓", "并非不", "非法", "无数",
        ];

        /// <summary>Number words; value 1 words are listed so that they are read, then ignored.</summary>
        public static readonly FrozenDictionary<string, long> NumberWords = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["zero"] = 0, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6, ["seven"] = 7, ["eight"] = 8,
            ["nine"] = 9, ["ten"] = 10, ["eleven"] = 11, ["twelve"] = 12, ["thirteen"] = 13, ["fourteen"] = 14, ["fifteen"] = 15,
            ["sixteen"] = 16, ["seventeen"] = 17, ["eighteen"] = 18, ["nineteen"] = 19, ["twenty"] = 20, ["thirty"] = 30, ["forty"] = 40,
            ["fifty"] = 50, ["sixty"] = 60, ["seventy"] = 70, ["eighty"] = 80, ["ninety"] = 90, ["hundred"] = 100, ["dozen"] = 12,
            ["first"] = 1, ["second"] = 2, ["third"] = 3, ["fourth"] = 4, ["fifth"] = 5, ["sixth"] = 6, ["seventh"] = 7, ["eighth"] = 8,
            ["ninth"] = 9, ["tenth"] = 10, ["eleventh"] = 11, ["twelfth"] = 12, ["twentieth"] = 20,
            ["zwei"] = 2, ["drei"] = 3, ["vier"] = 4, ["fünf"] = 5, ["sechs"] = 6, ["sieben"] = 7, ["acht"] = 8, ["neun"] = 9, ["zehn"] = 10,
            ["elf"] = 11, ["zwölf"] = 12, ["zwanzig"] = 20, ["dreißig"] = 30, ["vierzig"] = 40, ["fünfzig"] = 50, ["sechzig"] = 60,
            ["siebzig"] = 70, ["achtzig"] = 80, ["neunzig"] = 90, ["hundert"] = 100,
            ["dos"] = 2, ["tres"] = 3, ["cuatro"] = 4, ["cinco"] = 5, ["seis"] = 6, ["siete"] = 7, ["ocho"] = 8, ["nueve"] = 9, ["diez"] = 10,
            ["doce"] = 12, ["trece"] = 13, ["catorce"] = 14, ["quince"] = 15, ["veinte"] = 20, ["treinta"] = 30, ["cuarenta"] = 40,
            ["cincuenta"] = 50, ["sesenta"] = 60, ["setenta"] = 70, ["ochenta"] = 80, ["noventa"] = 90, ["cien"] = 100, ["ciento"] = 100,
        }.ToFrozenDictionary(StringComparer.Ordinal);

        public static readonly FrozenDictionary<string, decimal> Scales = new Dictionary<string, decimal>(StringComparer.Ordinal)
        {
            ["thousand"] = 1_000, ["million"] = 1_000_000, ["billion"] = 1_000_000_000, ["trillion"] = 1_000_000_000_000,
            ["tausend"] = 1_000, ["millionen"] = 1_000_000, ["milliarde"] = 1_000_000_000, ["milliarden"] = 1_000_000_000,
            ["mil"] = 1_000, ["millón"] = 1_000_000, ["millones"] = 1_000_000, ["万"] = 10_000, ["亿"] = 100_000_000,
        }.ToFrozenDictionary(StringComparer.Ordinal);

        public static readonly FrozenDictionary<char, long> CjkNumerals = new Dictionary<char, long>
        {
            ['零'] = 0, ['〇'] = 0, ['一'] = 1, ['二'] = 2, ['两'] = 2, ['三'] = 3, ['四'] = 4, ['五'] = 5, ['六'] = 6, ['七'] = 7,
            ['八'] = 8, ['九'] = 9, ['十'] = 10, ['百'] = 100, ['千'] = 1000, ['万'] = 10_000, ['亿'] = 100_000_000,
        }.ToFrozenDictionary();

        /// <summary>Names often written in lowercase, which capitalization cannot find: languages, products, elements.</summary>
        public static readonly FrozenSet<string> Names = FrozenSet.ToFrozenSet(
        [
            "python", "java", "javascript", "typescript", "rust", "golang", "c++", "c#", "f#", "ruby", "php", "perl", "kotlin", "swift",
            "scala", "haskell", "elixir", "erlang", "clojure", "lua", "dart", "matlab", "fortran", "cobol", "bash", "powershell", "zsh",
            "mysql", "postgresql", "postgres", "sqlite", "mongodb", "redis", "mariadb", "cassandra", "elasticsearch", "kafka", "rabbitmq",
            "docker", "kubernetes", "k8s", "linux", "ubuntu", "debian", "fedora", "centos", "macos", "ios", "android", "windows",
            "chrome", "firefox", "safari", "chromium", "react", "vue", "angular", "svelte", "django", "flask", "fastapi", "rails", "laravel",
            "spring", "node", "nodejs", "deno", "npm", "yarn", "pip", "conda", "git", "github", "gitlab", "aws", "azure", "gcp", "excel",
            "vim", "emacs", "vscode", "nginx", "apache", "terraform", "ansible", "pandas", "numpy", "pytorch", "tensorflow", "json", "yaml",
            "xml", "csv", "html", "css", "sql", "graphql", "http", "https", "tcp", "udp", "ssh", "ftp", "gpg", "pdf",
            "hydrogen", "helium", "lithium", "carbon", "nitrogen", "oxygen", "fluorine", "neon", "sodium", "magnesium", "aluminum",
            "aluminium", "silicon", "phosphorus", "sulfur", "sulphur", "chlorine", "argon", "potassium", "calcium", "titanium", "chromium",
            "manganese", "iron", "cobalt", "nickel", "copper", "zinc", "silver", "platinum", "gold", "mercury", "uranium", "iodine",
            "plutonium", "radium", "lithium", "tungsten", "sodio", "potasio", "hierro", "cobre", "natrium", "kalium", "eisen", "kupfer",
            "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
            "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
            "mercury", "venus", "mars", "jupiter", "saturn", "uranus", "neptune", "pluto",
            "dog", "cat", "horse", "cow", "pig", "sheep", "goat", "rabbit", "hamster", "parrot", "chicken", "duck", "fish", "snake",
            "lion", "tiger", "bear", "wolf", "fox", "elephant", "giraffe", "monkey", "dolphin", "whale", "shark", "bee", "ant", "spider",
            "hund", "katze", "pferd", "perro", "gato", "caballo",
            "apple", "banana", "orange", "grape", "cherry", "strawberry", "blueberry", "lemon", "lime", "mango", "pineapple", "peach",
            "pear", "plum", "watermelon", "avocado", "tomato", "potato", "onion", "garlic", "carrot", "broccoli", "spinach", "rice",
            "pasta", "bread", "cheese", "milk", "egg", "chocolate", "coffee", "tea", "beer", "wine", "honey", "peanut", "almond",
            "january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
            "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        ], StringComparer.Ordinal);

        /// <summary>Function words: not content for the order check, skipped when looking for what a negation applies to.</summary>
        public static readonly FrozenSet<string> Stop = FrozenSet.ToFrozenSet(
        [
            "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "i", "you", "me", "my", "your",
            "we", "our", "us", "it", "its", "this", "that", "these", "those", "what", "which", "who", "whom", "whose", "how", "why",
            "when", "where", "there", "here", "please", "can", "could", "would", "should", "will", "shall", "may", "might", "must",
            "of", "in", "on", "at", "for", "with", "about", "as", "by", "s", "t", "just", "really", "so", "very", "even", "ever", "also",
            "he", "she", "they", "them", "his", "her", "their", "him", "have", "has", "had", "if", "then", "but", "any", "some", "able",
            "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "ist", "sind", "war", "wie", "was", "wer",
            "wo", "wann", "warum", "welche", "welcher", "welches", "ich", "du", "er", "sie", "es", "wir", "man", "mein", "meine", "dein",
            "kann", "können", "darf", "dürfen", "soll", "mir", "mich", "bitte", "im", "mit", "auf", "für",
            "el", "la", "los", "las", "un", "una", "unos", "unas", "es", "son", "qué", "que", "cómo", "como", "cuál", "cuáles", "quién",
            "dónde", "cuándo", "por", "favor", "me", "mi", "se", "lo", "le", "puede", "pueden", "puedo", "en", "con", "muy",
        ], StringComparer.Ordinal);

        /// <summary>Function words kept in the order check's sequence: words that open a clause (a reordering across one,
        /// "reset it if I forgot it" / "I forgot it, how do I reset it", is a rewording, not a swap) and Spanish "a" (to).</summary>
        public static readonly FrozenSet<string> Clause = FrozenSet.ToFrozenSet(
            ["a", "if", "when", "because", "while", "since", "although", "though", "unless", "wenn", "weil", "falls", "ob", "si", "cuando", "porque", "aunque"],
            StringComparer.Ordinal);

        /// <summary>Words whose two sides may be swapped without changing the question.</summary>
        public static readonly FrozenSet<string> Symmetric = FrozenSet.ToFrozenSet(
            ["and", "or", "vs", "versus", "between", "und", "oder", "zwischen", "y", "o", "e", "entre", "和", "与", "跟", "及", "或"],
            StringComparer.Ordinal);

        public static readonly FrozenSet<char> CjkParticles = FrozenSet.ToFrozenSet("的吗呢吧啊呀了请");

        /// <summary>Characters of function words and common verbs: a difference containing one is a rewording, not a name.</summary>
        public static readonly FrozenSet<char> CjkFunction = FrozenSet.ToFrozenSet(
            "是有在的了吗么怎如何哪什多少可以能会要把被给让请问等于和与就都也还很最更个这那些用做吧呢得地着过到从对为我你他她它们说想该应需里些吧该否");

        /// <summary>Chinese rewrites before the term check: fillers dropped, question words unified.</summary>
        public static readonly (string From, string To)[] CjkRewrites =
        [
            ("请问", ""), ("请", ""), ("一下", ""), ("哪个城市", "哪"), ("哪座城市", "哪"), ("什么地方", "哪"), ("哪里", "哪"), ("哪儿", "哪"),
            ("怎么样", "如何"), ("怎样", "如何"), ("怎么", "如何"), ("多长时间", "多久"), ("多少时间", "多久"), ("是什么", "何"), ("什么", "何"),
        ];

        static Lexicon()
        {
            var exact = new Dictionary<string, List<(int, int)>>(StringComparer.Ordinal);
            var prefixes = new List<(string, (int, int))>();
            var substrings = new List<(string, (int, int))>();
            for (var g = 0; g < Groups.Length; g++)
            {
                for (var c = 0; c < Groups[g].Classes.Length; c++)
                {
                    foreach (var term in Groups[g].Classes[c])
                    {
                        if (term.EndsWith('*'))
                        {
                            prefixes.Add((term[..^1], (g, c)));
                        }
                        else if (term.Any(IsCjk) || (!char.IsLetter(term[0]) && term[0] != '°') || term.Contains('/', StringComparison.Ordinal))
                        {
                            substrings.Add((term, (g, c)));
                        }
                        else
                        {
                            foreach (var form in Forms(term))
                            {
                                if (!exact.TryGetValue(form, out var list))
                                {
                                    exact[form] = list = [];
                                }

                                if (!list.Contains((g, c)))
                                {
                                    list.Add((g, c));
                                }
                            }
                        }
                    }
                }
            }

            Exact = exact.ToFrozenDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
            Prefixes = prefixes.GroupBy(p => p.Item1[0]).ToFrozenDictionary(g => g.Key, g => g.ToArray());
            Substrings = substrings.GroupBy(p => p.Item1[0]).ToFrozenDictionary(g => g.Key, g => g.ToArray());
        }

        /// <summary>A term and its regular English forms (add → adds, added, adding; increase → increasing).</summary>
        private static IEnumerable<string> Forms(string term)
        {
            yield return term;
            if (term.Length < 3 || term.StartsWith('°') || !term.All(char.IsAsciiLetterLower))
            {
                yield break;
            }

            yield return term + "s";
            yield return term + "es";
            if (term.EndsWith('e'))
            {
                yield return term + "d";
                yield return term[..^1] + "ing";
            }
            else
            {
                yield return term + "ed";
                yield return term + "ing";
            }
        }

        private static IEnumerable<Group> Antonyms(params string[] groups) => groups.Select(g => Parse("antonym", g));

        private static IEnumerable<Group> Units(params string[] groups) => groups.Select(g => Parse("unit", g));

        private static Group Parse(string kind, string spec) => new(kind,
            [.. spec.Split('|').Select(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => t.ToLowerInvariant()).ToArray())]);
    }
}
