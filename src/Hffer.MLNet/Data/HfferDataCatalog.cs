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
