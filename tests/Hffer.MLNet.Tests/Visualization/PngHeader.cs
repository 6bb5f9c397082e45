using System.Buffers.Binary;

namespace Hffer.MLNet.Tests.Visualization;

/// <summary>Reads a PNG's size from its IHDR chunk, independently of the library that wrote it.</summary>
internal static class PngHeader
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a];

    public static (int Width, int Height) Size(string path)
    {
        byte[] head = new byte[24];
        using (var file = File.OpenRead(path))
            file.ReadExactly(head);
        Assert.Equal(Signature, head[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(head, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(16)),
            BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(20)));
    }
}
