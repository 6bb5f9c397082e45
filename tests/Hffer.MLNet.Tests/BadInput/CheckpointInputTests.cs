using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Hffer.MLNet.Onnx;
using Hffer.MLNet.Weights;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.BadInput;

/// <summary>
/// Hostile and damaged checkpoints: pickles that ask for code, safetensors headers that lie, and thousands of mutated
/// headers and graphs, none of which may crash, hang, read out of bounds or allocate beyond the file.
/// </summary>
[Collection("Torch")]
public class CheckpointInputTests
{
    [Theory]
    [InlineData("GLOBAL")]
    [InlineData("STACK_GLOBAL")]
    public void APickleAskingForCodeIsRefusedByNameAndNothingRuns(string opcode)
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "evil.pth");
        string canary = Path.Combine(folder.Path, "ran");
        PyTorchPickler.PickleStateDict(path, new Dictionary<string, Tensor> { ["w"] = ones(2) });
        byte[] command = Encoding.UTF8.GetBytes($"touch {canary}");
        byte[] pickle = opcode == "GLOBAL"
            ? [0x80, 0x02, .. "cos\nsystem\n"u8, (byte)'X', .. Length(command), .. command, 0x85, (byte)'R', (byte)'.']
            : [0x80, 0x04, 0x8c, 2, .. "os"u8, 0x94, 0x8c, 6, .. "system"u8, 0x94, 0x93, 0x94,
                (byte)'X', .. Length(command), .. command, 0x85, (byte)'R', (byte)'.'];
        ReplaceDataPickle(path, pickle);

        var error = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));

        Assert.StartsWith($"'{path}' asks to load the Python global 'os.system'", error.Message);
        Assert.False(File.Exists(canary));
    }

    [Fact]
    public void SafetensorsHeadersThatLieAreRefusedNamingTheTensor()
    {
        using var folder = new TemporaryFolder();
        var cases = new (string Name, byte[] File, string Expected)[]
        {
            ("huge-length", [.. LittleEndian(1UL << 62), .. "{}"u8], "header length 4,611,686,018,427,387,904"),
            ("past-end", Safetensors("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4096]}}""", 8),
                "tensor 'w''s data offsets [0,4096] lie outside the 8-byte data section"),
            ("overflow", Safetensors("""{"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}""", 8),
                "needs more bytes than the file holds"),
            ("mismatch", Safetensors("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 16),
                "tensor 'w' spans 8 bytes but its dtype and shape [3] need 12"),
            ("negative", Safetensors("""{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8),
                "tensor 'w' has the shape entry -2"),
            ("dtype", Safetensors("""{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,8]}}""", 8),
                "unknown dtype 'F128'"),
            ("not-json", Safetensors("""{"w":""", 8), "header is not valid JSON"),
        };

        foreach (var (name, bytes, expected) in cases)
        {
            string path = Path.Combine(folder.Path, name + ".safetensors");
            File.WriteAllBytes(path, bytes);
            var error = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));
            Assert.True(error.Message.Contains(expected, StringComparison.Ordinal) && error.Message.Contains(path),
                $"{name}: {error.Message}");
        }
    }

    [Fact]
    public void ThousandsOfMutatedSafetensorsHeadersAreReadOrRefusedNeverCrashing()
    {
        using var folder = new TemporaryFolder();
        string valid = Path.Combine(folder.Path, "valid.safetensors");
        global::TorchSharp.PyBridge.Safetensors.SaveStateDict(valid, new Dictionary<string, Tensor>
        {
            ["a.weight"] = randn(4, 3), ["b.bias"] = zeros(5), ["c"] = ones(2, 2, 2),
        });
        byte[] original = File.ReadAllBytes(valid);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var random = new Random(7);
        string mutated = Path.Combine(folder.Path, "mutated.safetensors");
        int refused = 0, read = 0;
        long before = GC.GetTotalAllocatedBytes(precise: true);

        for (int i = 0; i < 3000; i++)
        {
            byte[] bytes = Mutate(original, headerEnd, random);
            File.WriteAllBytes(mutated, bytes);
            try
            {
                var tensors = CheckpointReader.Read(mutated);
                Assert.All(tensors.Values, t => Assert.True(t.numel() * t.element_size() <= bytes.Length));
                foreach (var tensor in tensors.Values)
                    tensor.Dispose();
                read++;
            }
            catch (InvalidDataException)
            {
                refused++;
            }
        }

        Assert.Equal(3000, read + refused);
        Assert.True(refused > 1000, $"only {refused} of 3000 mutations were refused");
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 3000L * 1_000_000, $"{allocated:N0} bytes allocated for 3,000 small files");
    }

    [Fact]
    public void ThousandsOfMutatedGraphsAndZipCheckpointsAreReadOrRefusedNeverCrashing()
    {
        using var folder = new TemporaryFolder();
        using var network = TestNetworks.Random(Hffer.MLNet.Modeling.HfferArchitecture.Small, classes: 7, seed: 3);
        byte[] graph = HfferOnnxExporter.ExportToBytes(network, OnnxExportNames.Default);
        string zip = Path.Combine(folder.Path, "valid.pth");
        PyTorchPickler.PickleStateDict(zip, new Dictionary<string, Tensor> { ["w"] = ones(3), ["b"] = zeros(2) });
        byte[] checkpoint = File.ReadAllBytes(zip);
        var random = new Random(11);
        string mutatedZip = Path.Combine(folder.Path, "mutated.pth");
        int graphsRefused = 0, zipsRefused = 0;

        for (int i = 0; i < 2000; i++)
        {
            // The graph's structure comes first; its weights, which are skipped unread, come after it.
            byte[] bytes = Mutate(graph, Math.Min(graph.Length, 4096), random);
            try
            {
                OnnxModelReader.Read(bytes, "mutated graph");
            }
            catch (InvalidDataException)
            {
                graphsRefused++;
            }

            File.WriteAllBytes(mutatedZip, Mutate(checkpoint, checkpoint.Length, random));
            try
            {
                PickleGlobals.Check(mutatedZip);
            }
            catch (InvalidDataException)
            {
                zipsRefused++;
            }
        }

        Assert.True(graphsRefused > 0 && zipsRefused > 0, $"refused {graphsRefused} graphs and {zipsRefused} zips");
    }

    /// <summary>Flips, overwrites, inserts or truncates within the first <paramref name="span"/> bytes.</summary>
    private static byte[] Mutate(byte[] original, int span, Random random)
    {
        var bytes = original.ToList();
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(Math.Min(span, bytes.Count));
            switch (random.Next(4))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)random.Next(256); break;
                case 2: bytes.Insert(at, (byte)random.Next(256)); break;
                default: bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 16))); break;
            }
        }
        return [.. bytes];
    }

    private static byte[] Safetensors(string header, int dataBytes) =>
        [.. LittleEndian((ulong)Encoding.UTF8.GetByteCount(header)), .. Encoding.UTF8.GetBytes(header),
            .. new byte[dataBytes]];

    private static byte[] LittleEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Length(byte[] text)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)text.Length);
        return bytes;
    }

    private static void ReplaceDataPickle(string path, byte[] pickle)
    {
        using var archive = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = archive.Entries.Single(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal));
        string name = entry.FullName;
        entry.Delete();
        using var stream = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
        stream.Write(pickle);
    }
}
