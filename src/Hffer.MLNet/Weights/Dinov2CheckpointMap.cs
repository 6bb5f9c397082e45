using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Weights;

/// <summary>
/// Brings a DINOv2 checkpoint to the torch.hub key layout our module uses. Hub files (<c>dinov2_vitb14_pretrain.pth</c>)
/// pass through; Hugging Face files (<c>model.safetensors</c> of facebook/dinov2-base, saved from Dinov2Model) are
/// renamed by the official converter's table, with the separate query/key/value projections concatenated into
/// <c>qkv</c> in that order.
/// </summary>
internal static partial class Dinov2CheckpointMap
{
    /// <summary>Whether the entries use Hugging Face names.</summary>
    public static bool IsHuggingFace(IReadOnlyDictionary<string, Tensor> entries) =>
        entries.Keys.Any(k => k.StartsWith("embeddings.", StringComparison.Ordinal) ||
                              k.StartsWith("encoder.layer.", StringComparison.Ordinal));

    public static Dictionary<string, Tensor> ToHub(IReadOnlyDictionary<string, Tensor> entries)
    {
        if (!IsHuggingFace(entries))
            return entries.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);

        var hub = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var projections = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            string name = key.StartsWith("dinov2.", StringComparison.Ordinal) ? key["dinov2.".Length..] : key;
            var projection = ProjectionKey().Match(name);
            if (projection.Success)
            {
                projections[name] = value;
                continue;
            }
            hub[Rename(name)] = value;
        }

        // q, k, v rows stack in that order into the fused projection, as the hub model splits them.
        var fusedProjections = projections.Keys.Select(k => ProjectionKey().Match(k))
            .Select(m => (Layer: m.Groups["layer"].Value, Kind: m.Groups["kind"].Value)).Distinct();
        foreach (var (layer, kind) in fusedProjections)
        {
            string Part(string role) => $"encoder.layer.{layer}.attention.attention.{role}.{kind}";
            string[] roles = ["query", "key", "value"];
            if (roles.All(role => projections.ContainsKey(Part(role))))
            {
                hub[$"blocks.{layer}.attn.qkv.{kind}"] = cat(roles.Select(role => projections[Part(role)]).ToArray(), 0);
                continue;
            }

            // An incomplete triple stays under its own names, so the load report lists it as unexpected.
            foreach (string role in roles.Where(role => projections.ContainsKey(Part(role))))
                hub[Part(role)] = projections[Part(role)];
        }
        return hub;
    }

    private static string Rename(string name)
    {
        switch (name)
        {
            case "embeddings.cls_token": return "cls_token";
            case "embeddings.mask_token": return "mask_token";
            case "embeddings.position_embeddings": return "pos_embed";
            case "layernorm.weight": return "norm.weight";
            case "layernorm.bias": return "norm.bias";
        }
        if (name.StartsWith("embeddings.patch_embeddings.projection.", StringComparison.Ordinal))
            return "patch_embed.proj." + name["embeddings.patch_embeddings.projection.".Length..];

        var layer = LayerKey().Match(name);
        if (!layer.Success)
            return name;
        string rest = layer.Groups["rest"].Value switch
        {
            var r when r.StartsWith("attention.output.dense.", StringComparison.Ordinal) =>
                "attn.proj." + r["attention.output.dense.".Length..],
            "layer_scale1.lambda1" => "ls1.gamma",
            "layer_scale2.lambda1" => "ls2.gamma",
            var r => r,
        };
        return $"blocks.{layer.Groups["layer"].Value}.{rest}";
    }

    [GeneratedRegex(@"^encoder\.layer\.(?<layer>\d+)\.(?<rest>.+)$")]
    private static partial Regex LayerKey();

    [GeneratedRegex(@"^encoder\.layer\.(?<layer>\d+)\.attention\.attention\.(?<role>query|key|value)\.(?<kind>weight|bias)$")]
    private static partial Regex ProjectionKey();
}
