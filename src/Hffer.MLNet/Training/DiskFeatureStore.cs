using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Hffer.MLNet.Data;
using Hffer.MLNet.IO;

namespace Hffer.MLNet.Training;

/// <summary>
/// Prior features as one little-endian float32 file per image and variant, under
/// <c>folder/&lt;frozen-branch identity&gt;/&lt;SHA-256 of the image's pixels&gt;[.mirror].f32</c>. The same image
/// under the same frozen weights always finds its file, whichever data set or run it comes from; other weights or
/// input sizes get another folder. A file of the wrong length (a disk that filled up) counts as missing.
/// </summary>
internal sealed class DiskFeatureStore : IPriorFeatureStore
{
    private readonly string _folder;
    private readonly string[] _imageKeys;

    public DiskFeatureStore(string root, string frozenBranchIdentity, ImageSet images, int featureLength)
    {
        _folder = Path.Combine(root, frozenBranchIdentity);
        Directory.CreateDirectory(_folder);
        AtomicFile.RemoveLeftovers(_folder, TimeSpan.FromHours(1));
        FeatureLength = featureLength;
        _imageKeys = new string[images.Count];
        for (int i = 0; i < images.Count; i++)
            _imageKeys[i] = Convert.ToHexStringLower(SHA256.HashData(images.Image(i)));
    }

    public int FeatureLength { get; }

    /// <summary>The folder holding this store's files.</summary>
    public string Folder => _folder;

    public bool Contains(int index, bool mirrored)
    {
        var file = new FileInfo(PathOf(index, mirrored));
        return file.Exists && file.Length == FeatureLength * sizeof(float);
    }

    public void Read(int index, bool mirrored, Span<float> destination)
    {
        string path = PathOf(index, mirrored);
        using var stream = File.OpenRead(path);
        var bytes = MemoryMarshal.AsBytes(destination[..FeatureLength]);
        if (stream.Length != bytes.Length)
            throw new InvalidDataException(
                $"The feature cache file {path} holds {stream.Length} bytes, not {bytes.Length}.");
        stream.ReadExactly(bytes);
    }

    public void Write(int index, bool mirrored, ReadOnlySpan<float> features) =>
        AtomicFile.WriteAllBytes(PathOf(index, mirrored), MemoryMarshal.AsBytes(features));

    private string PathOf(int index, bool mirrored) =>
        Path.Combine(_folder, _imageKeys[index] + (mirrored ? ".mirror.f32" : ".f32"));
}
