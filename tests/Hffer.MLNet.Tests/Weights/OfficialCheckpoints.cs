using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Weights;

/// <summary>
/// Synthetic checkpoints with the official key names and shapes, written out from the published layouts (not from
/// our modules), filled with seeded random numbers.
/// </summary>
internal static class OfficialCheckpoints
{
    /// <summary>The torch.hub DINOv2 state dict (ViT-B/14 at dim 768, depth 12, grid 37 by default).</summary>
    public static Dictionary<string, Tensor> Dinov2Hub(int dim = 768, int depth = 12, int grid = 37, int seed = 1)
    {
        var generator = new Generator((ulong)seed);
        Tensor Random(params long[] shape) => randn(shape, generator: generator) * 0.02;
        var entries = new Dictionary<string, Tensor>
        {
            ["cls_token"] = Random(1, 1, dim),
            ["pos_embed"] = Random(1, 1 + grid * grid, dim),
            ["mask_token"] = Random(1, dim),
            ["patch_embed.proj.weight"] = Random(dim, 3, 14, 14),
            ["patch_embed.proj.bias"] = Random(dim),
            ["norm.weight"] = Random(dim) + 1,
            ["norm.bias"] = Random(dim),
        };
        for (int i = 0; i < depth; i++)
        {
            string block = $"blocks.{i}.";
            entries[block + "norm1.weight"] = Random(dim) + 1;
            entries[block + "norm1.bias"] = Random(dim);
            entries[block + "attn.qkv.weight"] = Random(3 * dim, dim);
            entries[block + "attn.qkv.bias"] = Random(3 * dim);
            entries[block + "attn.proj.weight"] = Random(dim, dim);
            entries[block + "attn.proj.bias"] = Random(dim);
            entries[block + "ls1.gamma"] = Random(dim) + 1;
            entries[block + "norm2.weight"] = Random(dim) + 1;
            entries[block + "norm2.bias"] = Random(dim);
            entries[block + "mlp.fc1.weight"] = Random(4 * dim, dim);
            entries[block + "mlp.fc1.bias"] = Random(4 * dim);
            entries[block + "mlp.fc2.weight"] = Random(dim, 4 * dim);
            entries[block + "mlp.fc2.bias"] = Random(dim);
            entries[block + "ls2.gamma"] = Random(dim) + 1;
        }
        return entries;
    }

    /// <summary>The same numbers under Hugging Face Dinov2Model names, with q, k, v split as the converter does.</summary>
    public static Dictionary<string, Tensor> Dinov2HuggingFace(Dictionary<string, Tensor> hub, int depth, int dim)
    {
        var entries = new Dictionary<string, Tensor>
        {
            ["embeddings.cls_token"] = hub["cls_token"],
            ["embeddings.mask_token"] = hub["mask_token"],
            ["embeddings.position_embeddings"] = hub["pos_embed"],
            ["embeddings.patch_embeddings.projection.weight"] = hub["patch_embed.proj.weight"],
            ["embeddings.patch_embeddings.projection.bias"] = hub["patch_embed.proj.bias"],
            ["layernorm.weight"] = hub["norm.weight"],
            ["layernorm.bias"] = hub["norm.bias"],
        };
        for (int i = 0; i < depth; i++)
        {
            string layer = $"encoder.layer.{i}.", block = $"blocks.{i}.";
            foreach (string kind in new[] { "weight", "bias" })
            {
                var qkv = hub[block + "attn.qkv." + kind];
                entries[layer + "attention.attention.query." + kind] = qkv[0..dim].contiguous();
                entries[layer + "attention.attention.key." + kind] = qkv[dim..(2 * dim)].contiguous();
                entries[layer + "attention.attention.value." + kind] = qkv[(2 * dim)..(3 * dim)].contiguous();
                entries[layer + "attention.output.dense." + kind] = hub[block + "attn.proj." + kind];
                entries[layer + "norm1." + kind] = hub[block + "norm1." + kind];
                entries[layer + "norm2." + kind] = hub[block + "norm2." + kind];
                entries[layer + "mlp.fc1." + kind] = hub[block + "mlp.fc1." + kind];
                entries[layer + "mlp.fc2." + kind] = hub[block + "mlp.fc2." + kind];
            }
            entries[layer + "layer_scale1.lambda1"] = hub[block + "ls1.gamma"];
            entries[layer + "layer_scale2.lambda1"] = hub[block + "ls2.gamma"];
        }
        return entries;
    }

    /// <summary>POSTER's ir50.pth: input layer, 21 units (stages 1-3), the unused output layer; 304 entries.</summary>
    public static Dictionary<string, Tensor> PosterIr50(string prefix = "")
    {
        var generator = new Generator(7);
        var entries = new Dictionary<string, Tensor>();
        void Add(string key, params long[] shape) => entries[prefix + key] = randn(shape, generator: generator) * 0.05;
        void BatchNorm(string key, long channels)
        {
            Add(key + ".weight", channels);
            Add(key + ".bias", channels);
            Add(key + ".running_mean", channels);
            entries[prefix + key + ".running_var"] = rand(channels, generator: generator) + 0.5;
            entries[prefix + key + ".num_batches_tracked"] = tensor(1000L);
        }

        Add("input_layer.0.weight", 64, 3, 3, 3);
        BatchNorm("input_layer.1", 64);
        Add("input_layer.2.weight", 64);
        var units = new List<(long In, long Depth)>();
        foreach (var (inChannels, depth, count) in new[] { (64L, 64L, 3), (64L, 128L, 4), (128L, 256L, 14) })
            for (int u = 0; u < count; u++)
                units.Add((u == 0 ? inChannels : depth, depth));
        for (int i = 0; i < units.Count; i++)
        {
            var (inChannels, depth) = units[i];
            BatchNorm($"body.{i}.res_layer.0", inChannels);
            Add($"body.{i}.res_layer.1.weight", depth, inChannels, 3, 3);
            Add($"body.{i}.res_layer.2.weight", depth);
            Add($"body.{i}.res_layer.3.weight", depth, depth, 3, 3);
            BatchNorm($"body.{i}.res_layer.4", depth);
            if (inChannels != depth)
            {
                Add($"body.{i}.shortcut_layer.0.weight", depth, inChannels, 1, 1);
                BatchNorm($"body.{i}.shortcut_layer.1", depth);
            }
        }
        BatchNorm("output_layer.0", 512);
        Add("output_layer.3.weight", 512, 512 * 7 * 7);
        Add("output_layer.3.bias", 512);
        BatchNorm("output_layer.4", 512);
        return entries;
    }
}
