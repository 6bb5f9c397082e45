namespace Hffer.MLNet.Data;

/// <summary>
/// Reads the RAF-DB basic (single-label) set: <c>EmoLabel/list_patition_label.txt</c> lines
/// <c>&lt;name&gt;.jpg &lt;label 1-7&gt;</c>, images at <c>Image/aligned/&lt;name&gt;_aligned.jpg</c>, split by the
/// <c>train_</c>/<c>test_</c> name prefix.
/// </summary>
internal static class RafDbReader
{
    public static IReadOnlyList<ImageFolderRow> Read(string root, string split)
    {
        if (split is not ("train" or "test"))
            throw new ArgumentException($"The RAF-DB split is \"train\" or \"test\", not \"{split}\".", nameof(split));
        string labels = Path.Combine(root, "EmoLabel", "list_patition_label.txt");
        if (!File.Exists(labels))
            throw new FileNotFoundException($"RAF-DB label file '{Path.GetFullPath(labels)}' does not exist.", labels);

        var rows = new List<ImageFolderRow>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(labels))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;

            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !int.TryParse(parts[1], out int label) || label is < 1 or > 7)
                throw new InvalidDataException($"{labels}, line {lineNumber}: expected '<name>.jpg <label 1-7>', got '{line}'.");
            if (!parts[0].StartsWith(split + "_", StringComparison.Ordinal))
                continue;

            string image = Path.Combine(root, "Image", "aligned", Path.GetFileNameWithoutExtension(parts[0]) + "_aligned.jpg");
            if (!File.Exists(image))
                throw new FileNotFoundException($"{labels}, line {lineNumber}: the image '{image}' does not exist.", image);
            rows.Add(new ImageFolderRow { ImagePath = Path.GetFullPath(image), Label = ExpressionClasses.RafDb[label - 1] });
        }

        if (rows.Count == 0)
            throw new InvalidDataException($"{labels} lists no '{split}_' images.");
        return rows;
    }
}
