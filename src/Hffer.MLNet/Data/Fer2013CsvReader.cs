using System.Collections;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Data;

/// <summary>
/// Streams the FER-2013 CSV (<c>emotion,pixels,Usage</c>, 2,304 space-separated grey values per row) as images;
/// the file is re-read on every pass, so memory stays flat.
/// </summary>
internal sealed class Fer2013CsvReader(string path, string? usage) : IEnumerable<Fer2013CsvRow>
{
    public const int Side = 48;

    public IEnumerator<Fer2013CsvRow> GetEnumerator()
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The FER-2013 CSV '{Path.GetFullPath(path)}' does not exist.", path);

        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("emotion", StringComparison.OrdinalIgnoreCase))
                continue;
            if (string.IsNullOrWhiteSpace(line))
                continue;

            var row = Parse(line, lineNumber);
            if (usage is null || row.Usage == usage)
                yield return row;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Fer2013CsvRow Parse(string line, int lineNumber)
    {
        string[] fields = line.Split(',');
        if (fields.Length < 2 || !int.TryParse(fields[0], out int code) || code is < 0 or > 6)
            throw new InvalidDataException($"{path}, line {lineNumber}: expected 'emotion (0-6),pixels,Usage'.");

        string[] values = fields[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (values.Length != Side * Side)
            throw new InvalidDataException(
                $"{path}, line {lineNumber}: {values.Length} pixel values, expected {Side * Side} (48x48).");

        var bgra = new byte[Side * Side * 4];
        for (int i = 0; i < values.Length; i++)
        {
            if (!byte.TryParse(values[i], out byte grey))
                throw new InvalidDataException($"{path}, line {lineNumber}: pixel {i} is '{values[i]}', not 0-255.");
            bgra[4 * i] = bgra[4 * i + 1] = bgra[4 * i + 2] = grey;
            bgra[4 * i + 3] = 255;
        }

        return new Fer2013CsvRow
        {
            Image = MLImage.CreateFromPixels(Side, Side, MLPixelFormat.Bgra32, bgra),
            Label = ExpressionClasses.Fer2013[code],
            Usage = fields.Length > 2 ? fields[2].Trim() : "",
        };
    }
}
