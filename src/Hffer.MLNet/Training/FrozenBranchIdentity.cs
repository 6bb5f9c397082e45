using System.Security.Cryptography;
using System.Text;
using Hffer.MLNet.Modeling;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// A short hash of everything the frozen branch's output depends on: its weights, the input size and the token
/// grid. Cached features and checkpoints carry it, so features of other weights are never reused.
/// </summary>
internal static class FrozenBranchIdentity
{
    // Bump when the way prior tokens are computed changes, so older cache folders stop matching.
    private const string Version = "hffer-prior-tokens-1";

    public static string Compute(HfferNetwork network)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var architecture = network.Architecture;
        hash.AppendData(Encoding.UTF8.GetBytes(
            $"{Version};input {architecture.InputSize};grid {architecture.TokenGrid};dim {architecture.VitEmbedDim}"));

        var dinov2 = network.dinov2 ?? throw new InvalidOperationException("The network has no DINOv2 branch.");
        foreach (var (name, value) in dinov2.state_dict().OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            hash.AppendData(Encoding.UTF8.GetBytes($";{name}[{string.Join(",", value.shape)}]{value.dtype}"));
            hash.AppendData(value.detach().cpu().contiguous().bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }
}
