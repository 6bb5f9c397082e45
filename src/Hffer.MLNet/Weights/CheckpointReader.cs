using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Hffer.MLNet.Weights;

/// <summary>
/// Reads a state dict from a PyTorch zip checkpoint (<c>torch.save</c>, read by TorchSharp.PyBridge without Python)
/// or a safetensors file, chosen by the file's first bytes.
/// </summary>
internal static class CheckpointReader
{
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is neither format, or holds no tensors.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The checkpoint '{Path.GetFullPath(path)}' does not exist.", path);

        // A header that lies about sizes or offsets is refused before the reader trusts it.
        bool zip = IsZip(path);
        if (zip)
            PickleGlobals.Check(path);
        else
            SafetensorsHeader.Validate(path);
        try
        {
            var entries = zip ? FromHashtable(PyTorchUnpickler.UnpickleStateDict(path)) : Safetensors.LoadStateDict(path);
            if (entries.Count == 0)
                throw new InvalidDataException($"The checkpoint '{path}' holds no tensors.");
            return entries;
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException(
                $"'{path}' could not be read as a PyTorch zip checkpoint or a safetensors file: {e.Message}", e);
        }
    }

    private static bool IsZip(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.Read(magic) == 4 && magic[0] == (byte)'P' && magic[1] == (byte)'K';
    }

    /// <summary>Flattens a top-level <c>state_dict</c> (or <c>model</c>) wrapper and keeps the tensors.</summary>
    private static Dictionary<string, Tensor> FromHashtable(Hashtable table)
    {
        foreach (string wrapper in new[] { "state_dict", "model" })
        {
            if (table[wrapper] is Hashtable inner)
                return FromHashtable(inner);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is string key && entry.Value is Tensor tensor)
                result[key] = tensor;
        }
        return result;
    }
}
