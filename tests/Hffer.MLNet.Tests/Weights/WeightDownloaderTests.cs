using System.Security.Cryptography;
using Hffer.MLNet.Weights;

namespace Hffer.MLNet.Tests.Weights;

/// <summary>Downloads only from a server the test starts on 127.0.0.1.</summary>
public class WeightDownloaderTests
{
    private static readonly byte[] s_content = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 31 % 251)).ToArray();

    private static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task InterruptedDownloadResumesWithARangeRequestAndVerifies()
    {
        using var folder = new TemporaryFolder();
        using var server = new LocalFileServer(s_content, cutFirstResponseAt: 1_000_000);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var downloader = new WeightDownloader(client, folder.Path);
        var source = new WeightSource(server.Url, "weights.pth", Sha256Of(s_content));

        await Assert.ThrowsAnyAsync<Exception>(() => downloader.FetchAsync(source));
        long partial = new FileInfo(Path.Combine(folder.Path, "weights.pth.part")).Length;
        string path = await downloader.FetchAsync(source);

        Assert.InRange(partial, 1, s_content.Length - 1);
        Assert.Equal($"bytes={partial}-", server.RangeHeaders[^1]);
        Assert.Equal(s_content, await File.ReadAllBytesAsync(path));
        Assert.False(File.Exists(path + ".part"));
    }

    [Fact]
    public async Task WrongChecksumDeletesTheDownloadAndNamesBothHashes()
    {
        using var folder = new TemporaryFolder();
        using var server = new LocalFileServer(s_content);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var downloader = new WeightDownloader(client, folder.Path);
        string wrong = new string('0', 64);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            downloader.FetchAsync(new WeightSource(server.Url, "weights.pth", wrong)));

        Assert.Contains(wrong, error.Message);
        Assert.Contains(Sha256Of(s_content), error.Message);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task CachedFileIsReturnedWithoutAnyRequest()
    {
        using var folder = new TemporaryFolder();
        using var server = new LocalFileServer(s_content);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var downloader = new WeightDownloader(client, folder.Path);
        var source = new WeightSource(server.Url, "weights.pth");

        string first = await downloader.FetchAsync(source);
        string second = await downloader.FetchAsync(source);

        Assert.Equal(first, second);
        Assert.Single(server.RangeHeaders);
    }
}
