using Tollgate.Gateway.Caching;

namespace Tollgate.Tests.Caching;

/// <summary>The semantic cache's guard: one clear example of each false friend in each language, and paraphrases it lets through.</summary>
public sealed class SemanticGuardTests
{
    [Theory]
    // negation
    [InlineData("negation", "Which foods are safe for cats?", "Which foods are not safe for cats?")]
    [InlineData("negation", "Why does my build fail on CI?", "Why doesn't my build fail on CI?")]
    [InlineData("negation", "Show customers who have placed an order.", "Show customers who have never placed an order.")]
    [InlineData("negation", "My phone charges with the original cable but not with others. Why?", "My phone doesn't charge with the original cable but does with others. Why?")]
    [InlineData("negation", "Welche Pilze sind giftig?", "Welche Pilze sind nicht giftig?")]
    [InlineData("negation", "Welche Länder haben eine Armee?", "Welche Länder haben keine Armee?")]
    [InlineData("negation", "¿Qué plantas necesitan sol?", "¿Qué plantas no necesitan sol?")]
    [InlineData("negation", "¿Cómo preparo café con azúcar?", "¿Cómo preparo café sin azúcar?")]
    [InlineData("negation", "哪些食物含有麸质？", "哪些食物不含麸质？")]
    [InlineData("negation", "我有保险的话怎么办？", "我没有保险的话怎么办？")]
    // antonyms
    [InlineData("antonym", "How do I increase the volume on my laptop?", "How do I decrease the volume on my laptop?")]
    [InlineData("antonym", "What should I eat before a long run?", "What should I eat after a long run?")]
    [InlineData("antonym", "What is the minimum value of a 32-bit integer?", "What is the maximum value of a 32-bit integer?")]
    [InlineData("antonym", "How do I enable dark mode?", "How do I disable dark mode?")]
    [InlineData("antonym", "Wie importiere ich Kontakte?", "Wie exportiere ich Kontakte?")]
    [InlineData("antonym", "Wie kann ich den Bildschirm heller machen?", "Wie kann ich den Bildschirm dunkler machen?")]
    [InlineData("antonym", "¿Cómo activo las notificaciones?", "¿Cómo desactivo las notificaciones?")]
    [InlineData("antonym", "¿Cuál es el país más grande de Europa?", "¿Cuál es el país más pequeño de Europa?")]
    [InlineData("antonym", "如何上传文件？", "如何下载文件？")]
    [InlineData("antonym", "世界上最大的湖是哪个？", "世界上最小的湖是哪个？")]
    // numbers
    [InlineData("number", "What is 15% of 80?", "What is 15% of 60?")]
    [InlineData("number", "Write a function that returns the first 10 primes.", "Write a function that returns the first twenty primes.")]
    [InlineData("number", "How do I install Python 3.8 on Ubuntu 20.04?", "How do I install Python 3.8 on Ubuntu 22.04?")]
    [InlineData("number", "Wie viel sind fünf Zoll in Zentimetern?", "Wie viel sind 15 Zoll in Zentimetern?")]
    [InlineData("number", "¿Quién ganó el Mundial de 2010?", "¿Quién ganó el Mundial de 2006?")]
    [InlineData("number", "¿Cuánto es dos mil pesos en dólares?", "¿Cuánto es tres mil pesos en dólares?")]
    [InlineData("number", "100美元等于多少人民币？", "1000美元等于多少人民币？")]
    [InlineData("number", "三百克面粉是几杯？", "五百克面粉是几杯？")]
    // named entities
    [InlineData("entity", "What is the capital of Slovakia?", "What is the capital of Slovenia?")]
    [InlineData("entity", "How do I connect to PostgreSQL from Node.js?", "How do I connect to MySQL from Node.js?")]
    [InlineData("entity", "When did Apple release the first iPhone?", "When did Apple release the first iPad?")]
    [InlineData("entity", "how do i read a file line by line in python", "how do i read a file line by line in rust")]
    [InlineData("entity", "What is the atomic number of sodium?", "What is the atomic number of potassium?")]
    [InlineData("entity", "Wie viele Einwohner hat München?", "Wie viele Einwohner hat Hamburg?")]
    [InlineData("entity", "¿Cuál es la moneda oficial de Chile?", "¿Cuál es la moneda oficial de Perú?")]
    [InlineData("entity", "北京到上海的高铁需要多长时间？", "北京到广州的高铁需要多长时间？")]
    [InlineData("entity", "李白是哪个朝代的诗人？", "苏轼是哪个朝代的诗人？")]
    // order of two entities around a relation
    [InlineData("order", "Did Google acquire YouTube?", "Did YouTube acquire Google?")]
    [InlineData("order", "How do I convert a JSON string to a Python dict?", "How do I convert a Python dict to a JSON string?")]
    [InlineData("order", "Ist Berlin größer als Hamburg?", "Ist Hamburg größer als Berlin?")]
    [InlineData("order", "¿Cómo convierto euros a dólares?", "¿Cómo convierto dólares a euros?")]
    [InlineData("order", "从北京到上海怎么走？", "从上海到北京怎么走？")]
    // units
    [InlineData("unit", "What is the average body temperature in Celsius?", "What is the average body temperature in Fahrenheit?")]
    [InlineData("unit", "How tall is Mount Kilimanjaro in meters?", "How tall is Mount Kilimanjaro in feet?")]
    [InlineData("unit", "What is 30 °C in kelvin?", "What is 30 °F in kelvin?")]
    [InlineData("unit", "Wie viel sind 5 Zoll in Zentimetern?", "Wie viel sind 5 Zoll in Millimetern?")]
    [InlineData("unit", "¿Cuántos gramos tiene una libra?", "¿Cuántos gramos tiene una onza?")]
    [InlineData("unit", "这座山有多少米高？", "这座山有多少英尺高？")]
    public void A_false_friend_is_caught(string kind, string stored, string incoming)
    {
        Assert.Equal(kind, SemanticGuard.Conflict(stored, incoming));
        Assert.False(SemanticGuard.Compatible(incoming, stored)); // both ways
    }

    [Theory]
    // case, punctuation, contractions, fillers, synonyms
    [InlineData("What is the capital of France?", "what is the capital of france")]
    [InlineData("What's the boiling point of water at sea level?", "What is the boiling point of water at sea level?")]
    [InlineData("whats the square root of 144", "What is the square root of 144?")]
    [InlineData("Hi, quick question: how do I reverse a list in Python?", "How do I reverse a list in Python?")]
    [InlineData("How do I exit Vim?", "How can I quit Vim?")]
    [InlineData("What is the largest planet in our solar system?", "Which planet in our solar system is the biggest?")]
    [InlineData("How many ounces are in a pound?", "How many ounces are in one pound?")]
    [InlineData("Convert 100 kilometers to miles.", "How many miles is 100 kilometers?")]
    [InlineData("Convert two hundred grams to ounces.", "Convert 200 grams to ounces.")]
    [InlineData("Why doesn't my code compile?", "Why does my code not compile?")]
    [InlineData("What is the difference between TCP and UDP?", "What is the difference between UDP and TCP?")]
    [InlineData("In Python, how do I read a file?", "How do I read a file in Python?")]
    [InlineData("How do I reset my password if I forgot it?", "I forgot my password, how can I reset it?")]
    [InlineData("How do I center a div with CSS?", "how do i center a div with css")]
    [InlineData("Can a dog eat grapes?", "Can dogs eat grapes?")]
    [InlineData("Not only cats but which pets need vaccines?", "Which pets need vaccines, cats included?")]
    [InlineData("Wie ändere ich mein Passwort in der App?", "Bitte sag mir, wie ich mein Passwort in der App ändern kann.")]
    [InlineData("Wann wurde die Bundesrepublik Deutschland gegründet?", "In welchem Jahr wurde die Bundesrepublik Deutschland gegründet?")]
    [InlineData("Wie viel sind drei Kilometer in Meilen?", "Wie viel sind 3 Kilometer in Meilen?")]
    [InlineData("¿Cuál es la capital de Argentina?", "Dime cuál es la capital de Argentina.")]
    [InlineData("¿Cómo puedo instalar Python en Windows?", "¿Cómo instalo Python en Windows, por favor?")]
    [InlineData("中国的首都是哪里？", "请问中国的首都是哪个城市？")]
    [InlineData("如何在Python中读取CSV文件？", "Python怎么读取CSV文件？")]
    [InlineData("一公里等于多少米？", "请问1公里是多少米？")]
    [InlineData("这个软件是不是免费的？", "这个软件是免费的吗？")]
    [InlineData("这个问题非常重要吗？", "这个问题很重要吗？")]
    public void A_paraphrase_passes(string stored, string incoming)
    {
        Assert.Null(SemanticGuard.Conflict(stored, incoming));
        Assert.True(SemanticGuard.Compatible(incoming, stored));
    }

    [Fact]
    public void Empty_identical_and_odd_inputs_are_handled()
    {
        Assert.True(SemanticGuard.Compatible("", ""));
        Assert.True(SemanticGuard.Compatible("How do I exit Vim?", "How do I exit Vim?"));
        Assert.False(SemanticGuard.Compatible("", "Is 7 prime?"));
        Assert.True(SemanticGuard.Compatible("?!… ,,, ；", "¿¡"));
        Assert.True(SemanticGuard.Compatible("1,000,000 users", "1000000 users"));
        Assert.True(SemanticGuard.Compatible("3,5 Liter", "3.5 Liter"));
        Assert.True(SemanticGuard.Compatible("二〇二一年发生了什么？", "2021年发生了什么？"));
        Assert.False(SemanticGuard.Compatible("Python 3.10", "Python 3.1"));
    }

    [Fact]
    public void Long_prompts_are_compared_to_their_end()
    {
        // Its speed is measured in bench (CacheBenchmarks.GuardShortPair, GuardLongPair), not here.
        var page = string.Concat(Enumerable.Repeat("The invoice lists every order of the month with its tax, and no refund is due. ", 500)); // 40 KB

        Assert.False(SemanticGuard.Compatible(page + "Summarize it.", page + "Summarize it in 3 lines."));
        Assert.True(SemanticGuard.Compatible(page + "Summarize it.", page + "Please summarize it."));
    }
}
