using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Hffer.MLNet.Tests.BadInput;

/// <summary>
/// Writes PNG files byte by byte (signature, IHDR, optional PLTE, one IDAT, IEND), so tests can make colour layouts
/// and bit depths that SkiaSharp's encoder never produces: grey, 16-bit, palette, grey with alpha.
/// </summary>
internal static class PngEncoder
{
    public const byte Grey = 0, Rgb = 2, Palette = 3, GreyAlpha = 4, Rgba = 6;

    /// <param name="rows">Each scanline's bytes, already in the layout the colour type and bit depth call for.</param>
    public static byte[] Encode(int width, int height, byte colourType, byte bitDepth, Func<int, byte[]> rows,
        byte[]? palette = null)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a]);

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = bitDepth;
        header[9] = colourType;
        Chunk(png, "IHDR", header);
        if (palette is not null)
            Chunk(png, "PLTE", palette);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(rows(y));
            }
        }
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(length, Crc32(typeAndData));
        png.Write(length);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xffffffff;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xedb88320 : crc >> 1;
        }
        return ~crc;
    }
}
