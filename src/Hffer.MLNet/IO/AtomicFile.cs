namespace Hffer.MLNet.IO;

/// <summary>
/// Replaces a file only once its new content is completely on disk, so a crash, a full disk or a killed process
/// during the write leaves the previous file as it was.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Suffix of the temporary files; a killed writer can leave one behind, never a half-written target.</summary>
    public const string TemporarySuffix = ".partial";

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/> into a temporary file beside it, flushes that to
    /// the disk, then renames it over <paramref name="path"/>.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(folder);

        // A unique name per writer, so two processes saving the same path never share a temporary file.
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                       bufferSize: 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>
    /// Deletes temporary files that killed writers left in <paramref name="folder"/> (beside
    /// <paramref name="targetName"/> only, when given). Files younger than <paramref name="minimumAge"/> are kept,
    /// because another process may still be writing them.
    /// </summary>
    public static void RemoveLeftovers(string folder, TimeSpan minimumAge, string? targetName = null)
    {
        if (!Directory.Exists(folder))
            return;
        string pattern = targetName is null ? $".*{TemporarySuffix}" : $".{targetName}.*{TemporarySuffix}";
        var cutoff = DateTime.UtcNow - minimumAge;
        foreach (string leftover in Directory.EnumerateFiles(folder, pattern))
        {
            if (File.GetLastWriteTimeUtc(leftover) < cutoff)
                TryDelete(leftover);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Another process may still hold it; it is only a leftover.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
