namespace Hffer.MLNet.Data;

/// <summary>Class names and their order in the standard facial-expression datasets.</summary>
public static class ExpressionClasses
{
    /// <summary>RAF-DB basic labels 1-7 in label order: 1 surprise ... 7 neutral.</summary>
    public static IReadOnlyList<string> RafDb { get; } = ["surprise", "fear", "disgust", "happy", "sad", "angry", "neutral"];

    /// <summary>FER-2013 CSV emotion codes 0-6 in code order: 0 angry ... 6 neutral.</summary>
    public static IReadOnlyList<string> Fer2013 { get; } = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];
}
