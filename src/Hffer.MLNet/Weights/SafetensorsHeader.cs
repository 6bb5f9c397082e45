using System.Buffers.Binary;
using System.Text.Json;

namespace Hffer.MLNet.Weights;

/// <summary>
/// Checks a safetensors file's header against the file before any tensor is read: a header length that runs past the
/// file, a malformed header, an unknown dtype, a negative or overflowing shape, or data offsets outside the data
/// section or disagreeing with the shape are refused, naming the file and the tensor. The reader that follows can
/// then neither read out of bounds nor allocate more than the file holds.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>Largest header accepted; real headers of large models are a few hundred kilobytes.</summary>
    public const long MaxHeaderBytes = 100L << 20;

    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["I64"] = 8, ["U64"] = 8,
        ["F32"] = 4, ["I32"] = 4, ["U32"] = 4,
        ["F16"] = 2, ["BF16"] = 2, ["I16"] = 2, ["U16"] = 2,
        ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
    };

    /// <summary>The number of tensors the header describes.</summary>
    /// <exception cref="InvalidDataException">The header does not describe this file; the message says where.</exception>
    public static int Validate(string path)
    {
        using var file = File.OpenRead(path);
        long length = file.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || file.Read(prefix) != 8)
            throw Refuse(path, $"it is {length} bytes long, shorter than the 8-byte header length");

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2 || headerLength > (ulong)Math.Min(length - 8, MaxHeaderBytes))
            throw Refuse(path, $"its header length {headerLength:N0} does not fit the file's {length:N0} bytes " +
                $"(or the {MaxHeaderBytes:N0}-byte limit)");

        var header = new byte[headerLength];
        file.ReadExactly(header);
        long dataLength = length - 8 - (long)headerLength;

        try
        {
            using var document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Refuse(path, "its header is not a JSON object");
            int tensors = 0;
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                    continue;
                CheckTensor(path, entry.Name, entry.Value, dataLength);
                tensors++;
            }
            return tensors;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // Invalid UTF-8 surfaces only when a name or value is read, as InvalidOperationException.
            throw Refuse(path, $"its header is not valid JSON ({e.Message})");
        }
    }

    private static void CheckTensor(string path, string name, JsonElement tensor, long dataLength)
    {
        if (tensor.ValueKind != JsonValueKind.Object
            || !tensor.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !tensor.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2)
            throw Refuse(path, $"tensor '{name}' lacks a string dtype, a shape array or two data offsets");
        if (!ElementSizes.TryGetValue(dtype.GetString()!, out int elementSize))
            throw Refuse(path, $"tensor '{name}' has the unknown dtype '{dtype.GetString()}'");

        long bytes = elementSize;
        foreach (var dimension in shape.EnumerateArray())
        {
            if (!dimension.TryGetInt64(out long size) || size < 0)
                throw Refuse(path, $"tensor '{name}' has the shape entry {dimension.GetRawText()}");
            if (size != 0 && bytes > dataLength / size)
                throw Refuse(path, $"tensor '{name}''s shape {shape.GetRawText()} needs more bytes than the file holds");
            bytes *= size;
        }

        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end)
            || begin < 0 || end < begin || end > dataLength)
            throw Refuse(path, $"tensor '{name}''s data offsets {offsets.GetRawText()} lie outside the " +
                $"{dataLength:N0}-byte data section");
        if (end - begin != bytes)
            throw Refuse(path, $"tensor '{name}' spans {end - begin:N0} bytes but its dtype and shape " +
                $"{shape.GetRawText()} need {bytes:N0}");
    }

    private static InvalidDataException Refuse(string path, string reason) =>
        new($"'{path}' is neither a PyTorch zip checkpoint (it does not start with PK) nor a valid safetensors file: " +
            $"{reason}.");
}
