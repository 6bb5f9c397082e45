namespace Hffer.MLNet.Tests.BadInput;

/// <summary>
/// Writes a baseline CMYK JPEG (four 1x1-sampled components, Adobe APP14 marker, inverted values as Photoshop stores
/// them) whose 8x8 blocks are each one flat value, so only DC coefficients are coded: a quantisation table of ones,
/// a DC Huffman table giving category c the 4-bit code c, and an AC table whose only code, "0", ends each block.
/// SkiaSharp encodes no CMYK; this is enough to make one.
/// </summary>
internal static class CmykJpegEncoder
{
    /// <param name="blocks">Per 8x8 block (row-major, <paramref name="blocksWide"/> per row) the grey to show.</param>
    public static byte[] FlatGreyBlocks(int blocksWide, int blocksHigh, Func<int, int, byte> blocks)
    {
        var jpeg = new List<byte> { 0xff, 0xd8 };
        Segment(jpeg, 0xee, [.. "Adobe"u8, 0, 100, 0, 0, 0, 0, 0]);
        Segment(jpeg, 0xdb, [0, .. Enumerable.Repeat((byte)1, 64)]);
        int width = 8 * blocksWide, height = 8 * blocksHigh;
        Segment(jpeg, 0xc0, [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 4,
            1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0]);
        byte[] dcCounts = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Segment(jpeg, 0xc4, [0x00, .. dcCounts, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        Segment(jpeg, 0xc4, [0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
        Segment(jpeg, 0xda, [4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);

        var bits = new BitWriter(jpeg);
        var previous = new int[4];
        for (int row = 0; row < blocksHigh; row++)
        {
            for (int column = 0; column < blocksWide; column++)
            {
                // Adobe inverted CMYK: no cyan, magenta or yellow ink is stored as 255, and K's stored value is the grey.
                int[] stored = [255, 255, 255, blocks(row, column)];
                for (int component = 0; component < 4; component++)
                {
                    int dc = 8 * (stored[component] - 128);
                    int difference = dc - previous[component];
                    previous[component] = dc;
                    int category = difference == 0 ? 0 : 32 - int.LeadingZeroCount(Math.Abs(difference));
                    bits.Write(category, 4);
                    if (category > 0)
                        bits.Write(difference >= 0 ? difference : difference + (1 << category) - 1, category);
                    bits.Write(0, 1);
                }
            }
        }
        bits.Flush();
        jpeg.AddRange([0xff, 0xd9]);
        return [.. jpeg];
    }

    private static void Segment(List<byte> jpeg, byte marker, byte[] body)
    {
        int length = body.Length + 2;
        jpeg.AddRange([0xff, marker, (byte)(length >> 8), (byte)length, .. body]);
    }

    /// <summary>Entropy-coded bits, most significant first, with a zero stuffed after every 0xFF byte.</summary>
    private sealed class BitWriter(List<byte> output)
    {
        private int _buffer;
        private int _count;

        public void Write(int value, int length)
        {
            for (int bit = length - 1; bit >= 0; bit--)
            {
                _buffer = (_buffer << 1) | ((value >> bit) & 1);
                if (++_count == 8)
                    Emit();
            }
        }

        public void Flush()
        {
            while (_count != 0)
                Write(1, 1);
        }

        private void Emit()
        {
            output.Add((byte)_buffer);
            if (_buffer == 0xff)
                output.Add(0);
            _buffer = 0;
            _count = 0;
        }
    }
}
