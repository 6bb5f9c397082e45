namespace Hffer.MLNet.Training;

/// <summary>
/// Recognises an allocation failure during a training step, from .NET or from libtorch (whose CPU and CUDA
/// allocators report it as an <see cref="System.Runtime.InteropServices.ExternalException"/> with their own text), and
/// turns it into advice about the batch size.
/// </summary>
internal static class OutOfMemory
{
    private static readonly string[] LibtorchMessages =
        ["not enough memory", "out of memory", "CUDA error: out of memory", "Cannot allocate memory"];

    public static bool Is(Exception exception) =>
        exception is OutOfMemoryException || LibtorchMessages.Any(text => Messages(exception)
            .Any(message => message.Contains(text, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The error to throw instead, naming where it happened and a smaller batch to try.</summary>
    public static InsufficientMemoryException Explain(Exception exception, int epoch, int step, int batchSize,
        string device) =>
        new($"Training ran out of memory on the {device} at epoch {epoch}, step {step} with {batchSize} images " +
            $"per batch. Set HfferOptions.BatchSize lower (try {Math.Max(1, batchSize / 2)}), use the small preset, or " +
            $"train where more memory is free. The allocator said: {Messages(exception).Last()}", exception);

    private static IEnumerable<string> Messages(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
            yield return current.Message;
    }
}
