using Microsoft.ML;

namespace Hffer.MLNet.Data;

/// <summary>Dataset readers for facial-expression data, on <see cref="MLContext.Data"/>.</summary>
public static class HfferDataCatalog
{
    /// <summary>File extensions read as images (case-insensitive).</summary>
    public static IReadOnlyCollection<string> ImageExtensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    /// <summary>
    /// Reads a folder-per-class dataset (<c>folder/&lt;class&gt;/*.jpg</c>, the FER-2013 and AffectNet image-folder
    /// layout) into columns <c>ImagePath</c> (full path) and <c>Label</c> (class folder name).
    /// </summary>
    /// <remarks>
    /// Rows are ordered by class folder name (ordinal) and then file name, so <c>MapValueToKey</c> fitted on them
    /// numbers the classes alphabetically. Files with other extensions are skipped; unreadable images surface
    /// when <c>LoadImages</c> decodes them.
    /// </remarks>
    /// <exception cref="DirectoryNotFoundException"><paramref name="folder"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folder holds an image.</exception>
    public static IDataView LoadImageFolder(this DataOperationsCatalog catalog, string folder)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.LoadFromEnumerable(ReadImageFolder(folder));
    }

    /// <summary>
    /// Reads the RAF-DB basic set under <paramref name="root"/> (<c>EmoLabel/list_patition_label.txt</c>,
    /// <c>Image/aligned/</c>) into <c>ImagePath</c> and <c>Label</c>; labels 1-7 become the names of
    /// <see cref="ExpressionClasses.RafDb"/>, and <paramref name="split"/> ("train" or "test") picks rows by name prefix.
    /// </summary>
    /// <exception cref="FileNotFoundException">The label file or a listed image does not exist (named).</exception>
    /// <exception cref="InvalidDataException">A label line is malformed (file and line named).</exception>
    public static IDataView LoadRafDb(this DataOperationsCatalog catalog, string root, string split)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.LoadFromEnumerable(RafDbReader.Read(root, split));
    }

    /// <summary>
    /// Streams the FER-2013 CSV (<c>emotion,pixels,Usage</c>) as columns <c>Image</c> (48x48, ready for HFFER without
    /// <c>LoadImages</c>), <c>Label</c> (names of <see cref="ExpressionClasses.Fer2013"/>) and <c>Usage</c>.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="csvPath">Path of <c>fer2013.csv</c>.</param>
    /// <param name="usage">Keep only rows with this Usage (Training, PublicTest, PrivateTest); null keeps all.</param>
    /// <remarks>Malformed rows fail when the data is read, with the file and line named.</remarks>
    public static IDataView LoadFer2013Csv(this DataOperationsCatalog catalog, string csvPath, string? usage = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        return catalog.LoadFromEnumerable(new Fer2013CsvReader(csvPath, usage));
    }

    /// <summary>
    /// A one-column view (<c>Label</c>) of class names in the given order, for
    /// <c>MapValueToKey("Label", keyData: ...)</c>: it fixes which classes exist and their order in <c>Score</c>,
    /// whatever classes a particular training or test set happens to hold.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or repeated.</exception>
    public static IDataView LoadClassNames(this DataOperationsCatalog catalog, IEnumerable<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(classNames);
        var names = classNames.ToArray();
        if (names.Length == 0 || names.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("Class names must not be empty.", nameof(classNames));
        if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new ArgumentException($"The class name '{repeated.Key}' appears more than once.", nameof(classNames));
        return catalog.LoadFromEnumerable(names.Select(name => new ClassNameRow { Label = name }));
    }

    /// <summary>The rows <see cref="LoadImageFolder"/> produces, as a list.</summary>
    public static IReadOnlyList<ImageFolderRow> ReadImageFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"The dataset folder '{Path.GetFullPath(folder)}' does not exist.");

        var rows = new List<ImageFolderRow>();
        foreach (string classFolder in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            string label = Path.GetFileName(classFolder);
            rows.AddRange(Directory.GetFiles(classFolder)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .Select(f => new ImageFolderRow { ImagePath = Path.GetFullPath(f), Label = label }));
        }

        if (rows.Count == 0)
            throw new InvalidDataException(
                $"'{Path.GetFullPath(folder)}' has no class folders with images ({string.Join(", ", ImageExtensions)}).");
        return rows;
    }
}
