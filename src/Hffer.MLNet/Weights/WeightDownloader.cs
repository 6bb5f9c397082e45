using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Hffer.MLNet.Weights;

/// <summary>
/// Downloads checkpoints into a local cache: resumes an interrupted download with an HTTP range request, verifies
/// the SHA-256 when one is known, and only renames the finished file into place, so the cache never holds a
/// partial or corrupt checkpoint under its final name.
/// </summary>
public sealed class WeightDownloader
{
    private readonly HttpClient _client;

    /// <summary>Creates a downloader.</summary>
    /// <param name="client">The HTTP client to use; a default one when null.</param>
    /// <param name="cacheFolder">Cache folder; defaults to <c>~/.cache/hffer-mlnet</c>
    /// (or <c>HFFER_CACHE</c> when that environment variable is set).</param>
    public WeightDownloader(HttpClient? client = null, string? cacheFolder = null)
    {
        _client = client ?? new HttpClient();
        CacheFolder = cacheFolder ?? Environment.GetEnvironmentVariable("HFFER_CACHE") ??
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "hffer-mlnet");
    }

    /// <summary>The folder checkpoints are cached in.</summary>
    public string CacheFolder { get; }

    /// <summary>
    /// Returns the cached file of <paramref name="source"/>, downloading (or finishing the download of) it first.
    /// </summary>
    /// <param name="source">What to fetch.</param>
    /// <param name="progress">Receives the number of bytes on disk as the download goes on.</param>
    /// <param name="cancellation">Stops the download; the partial file is kept for the next call to resume.</param>
    /// <exception cref="InvalidDataException">The finished file does not have the expected SHA-256 (it is deleted).</exception>
    /// <exception cref="HttpRequestException">The server refused or failed the request.</exception>
    public async Task<string> FetchAsync(WeightSource source, IProgress<long>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        Directory.CreateDirectory(CacheFolder);
        string target = Path.Combine(CacheFolder, source.FileName);
        if (File.Exists(target))
            return target;

        string partial = target + ".part";
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, source.Url);
        if (have > 0)
            request.Headers.Range = new RangeHeaderValue(have, null);

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation)
            .ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            have = 0;
        else
            response.EnsureSuccessStatusCode();

        // A server that ignores the range answers 200 with the whole file: start over instead of appending.
        bool resuming = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        await using (var file = new FileStream(partial, resuming ? FileMode.Append : FileMode.Create, FileAccess.Write))
        await using (var body = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false))
        {
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellation).ConfigureAwait(false)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), cancellation).ConfigureAwait(false);
                progress?.Report(file.Length);
            }
        }

        if (source.Sha256 is { } expected)
        {
            string actual = await HashAsync(partial, cancellation).ConfigureAwait(false);
            if (!actual.Equals(expected, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(partial);
                throw new InvalidDataException(
                    $"{source.Url} downloaded with SHA-256 {actual}, expected {expected}; the file was deleted.");
            }
        }

        File.Move(partial, target, overwrite: true);
        return target;
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellation)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellation).ConfigureAwait(false));
    }
}
