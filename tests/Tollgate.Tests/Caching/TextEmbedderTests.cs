using Tollgate.Gateway.Caching;

namespace Tollgate.Tests.Caching;

/// <summary>The in-process embedding model: loaded on first use, unit vectors, paraphrases close, unrelated texts far.</summary>
public sealed class TextEmbedderTests
{
    private static readonly Lazy<TextEmbedder> Shared = new(() => new TextEmbedder());

    [Fact]
    public void The_model_loads_only_when_first_used()
    {
        using var embedder = new TextEmbedder();
        Assert.False(embedder.Loaded);

        var vector = embedder.Embed("What is the capital of France?");

        Assert.True(embedder.Loaded);
        Assert.Equal(TextEmbedder.Dimensions, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 4);
    }

    [Fact]
    public void Paraphrases_are_close_and_unrelated_texts_are_not()
    {
        var capital = Shared.Value.Embed("What is the capital of France?");
        var paraphrase = Shared.Value.Embed("Tell me the capital city of France.");
        var unrelated = Shared.Value.Embed("How do I reverse a linked list in Python?");

        Assert.True(Cosine(capital, paraphrase) > 0.85, Cosine(capital, paraphrase).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(Cosine(capital, unrelated) < 0.3);
    }

    [Fact]
    public void Chinese_text_is_read_character_by_character_not_as_one_unknown_word()
    {
        var a = Shared.Value.Embed("法国的首都是哪里？");
        var b = Shared.Value.Embed("如何在Python中反转链表？");

        // Were each run of Chinese one [UNK], both would embed almost the same.
        Assert.True(Cosine(a, b) < 0.9);
    }

    [Fact]
    public void A_long_text_is_truncated_to_the_models_length_and_still_embeds()
    {
        var text = string.Join(' ', Enumerable.Repeat("The invoice lists every order of the month with its tax.", 200));

        var vector = Shared.Value.Embed(text);

        Assert.Equal(TextEmbedder.Dimensions, vector.Length);
        Assert.All(vector, v => Assert.True(float.IsFinite(v)));
    }

    private static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
