using System.Text.Json;

namespace Tollgate.ComplexityLab;

internal sealed record Example(string Prompt, bool High, string Lang, string Set);

internal static class Data
{
    public static readonly string[] Langs = ["en", "zh", "de", "es"];

    public static string Dir(string repo) => Path.Combine(repo, "tests", "Tollgate.Tests", "Routing", "complexity");

    /// <summary>The four labelled sets in a fixed order: tuning, tuning2, tuning3, holdout.</summary>
    public static List<Example> Load(string repo)
    {
        var all = new List<Example>();
        foreach (var set in new[] { "tuning", "tuning2", "tuning3", "holdout" })
        {
            foreach (var line in File.ReadLines(Path.Combine(Dir(repo), set + ".jsonl")))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                all.Add(new Example(r.GetProperty("prompt").GetString()!, r.GetProperty("label").GetString() == "high", r.GetProperty("lang").GetString()!, set));
            }
        }

        return all;
    }
}
