using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Hffer.MLNet.Weights;

/// <summary>
/// Refuses a PyTorch zip checkpoint whose pickle names any global other than the few a state dict needs (an ordered
/// dict, tensor and parameter rebuilders, typed storages), before anything unpickles it, in the spirit of PyTorch's
/// <c>weights_only</c> loading. The pickle is walked opcode by opcode and nothing in it is executed or constructed.
/// </summary>
internal static class PickleGlobals
{
    private static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
        "torch.BoolStorage",
    };

    /// <exception cref="InvalidDataException">
    /// The checkpoint's pickle names a global outside the allowed set (named), or cannot be walked.
    /// </exception>
    public static void Check(string path)
    {
        foreach (var (entry, pickle) in Pickles(path))
        {
            foreach (string global in Globals(pickle, $"{path}:{entry}"))
            {
                if (!Allowed.Contains(global))
                    throw new InvalidDataException($"'{path}' asks to load the Python global '{global}', which a " +
                        "checkpoint of plain tensors never needs; it was refused and nothing in the file was run. " +
                        "Save only the state_dict (torch.save(model.state_dict(), ...)) and load that.");
            }
        }
    }

    /// <summary>The checkpoint's pickles (<c>data.pkl</c> entries), read whole; a damaged zip is named.</summary>
    private static List<(string Entry, byte[] Pickle)> Pickles(string path)
    {
        var pickles = new List<(string, byte[])>();
        try
        {
            using var archive = ZipFile.OpenRead(path);
            foreach (var entry in archive.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)))
            {
                if (entry.Length > MaxPickleBytes)
                    throw new InvalidDataException($"'{path}': {entry.FullName} claims {entry.Length:N0} bytes, more " +
                        $"than a state dict's pickle ({MaxPickleBytes:N0} at most).");
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                pickles.Add((entry.FullName, buffer.ToArray()));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !e.Message.StartsWith($"'{path}'"))
        {
            throw new InvalidDataException($"'{path}' starts like a zip file but cannot be read as one: {e.Message}", e);
        }
        if (pickles.Count == 0)
            throw new InvalidDataException($"'{path}' is a zip file without a data.pkl: not a PyTorch checkpoint.");
        return pickles;
    }

    /// <summary>Largest pickle accepted; the pickle of a state dict holds names and offsets, not the tensors.</summary>
    private const long MaxPickleBytes = 64L << 20;

    /// <summary>Every global the pickle names (GLOBAL, INST and STACK_GLOBAL opcodes), in order.</summary>
    internal static IEnumerable<string> Globals(byte[] pickle, string source)
    {
        var globals = new List<string>();
        var memo = new Dictionary<long, string?>();
        var recent = new List<string?>();   // the most recent pushes, as strings where they are strings
        void Push(string? value)
        {
            recent.Add(value);
            if (recent.Count > 2)
                recent.RemoveAt(0);
        }

        int at = 0;
        InvalidDataException Broken(string why) => new($"'{source}' is not a readable pickle: {why} at byte {at}.");
        ReadOnlySpan<byte> Take(long count)
        {
            if (count < 0 || count > pickle.Length - at)
                throw Broken($"an argument of {count} bytes runs past the end");
            var span = pickle.AsSpan(at, (int)count);
            at += (int)count;
            return span;
        }
        string Line()
        {
            int end = Array.IndexOf(pickle, (byte)'\n', at);
            if (end < 0)
                throw Broken("a line argument has no end");
            string text = Encoding.UTF8.GetString(pickle, at, end - at);
            at = end + 1;
            return text;
        }

        long MemoIndex(string text) => long.TryParse(text, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out long index)
            ? index
            : throw Broken($"the memo index '{text}' is not a number");

        while (at < pickle.Length)
        {
            byte opcode = pickle[at++];
            switch ((char)opcode)
            {
                case '.':
                    return globals;
                case 'c' or 'i':
                    string module = Line(), name = Line();
                    globals.Add($"{module}.{name}");
                    Push(null);
                    break;
                case '\x93':
                    if (recent.Count < 2 || recent[0] is null || recent[1] is null)
                        throw new InvalidDataException($"'{source}' names a global this check cannot identify " +
                            $"(STACK_GLOBAL at byte {at - 1}); it was refused.");
                    globals.Add($"{recent[0]}.{recent[1]}");
                    recent.Clear();
                    Push(null);
                    break;
                case 'X':
                    Push(Encoding.UTF8.GetString(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))));
                    break;
                case '\x8c':
                    Push(Encoding.UTF8.GetString(Take(Take(1)[0])));
                    break;
                case '\x8d':
                    Push(Encoding.UTF8.GetString(Take((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))));
                    break;
                case 'V' or 'S':
                    Push(Line().Trim('\'', '"'));
                    break;
                case 'T' or 'B':
                    Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)));
                    Push(null);
                    break;
                case 'U' or 'C' or '\x8a':
                    Take(Take(1)[0]);
                    Push(null);
                    break;
                case '\x8b':
                    Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)));
                    Push(null);
                    break;
                case '\x8e' or '\x96':
                    Take((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8)));
                    Push(null);
                    break;
                case 'I' or 'L' or 'F' or 'P':
                    Line();
                    Push(null);
                    break;
                case 'g':
                    Push(memo.GetValueOrDefault(MemoIndex(Line())));
                    break;
                case 'h':
                    Push(memo.GetValueOrDefault(Take(1)[0]));
                    break;
                case 'j':
                    Push(memo.GetValueOrDefault(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))));
                    break;
                case 'p':
                    memo[MemoIndex(Line())] = recent.LastOrDefault();
                    break;
                case 'q':
                    memo[Take(1)[0]] = recent.LastOrDefault();
                    break;
                case 'r':
                    memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = recent.LastOrDefault();
                    break;
                case '\x94':
                    memo[memo.Count] = recent.LastOrDefault();
                    break;
                case 'J' or '\x84':
                    Take(4);
                    Push(null);
                    break;
                case 'K' or '\x82':
                    Take(1);
                    Push(null);
                    break;
                case 'M' or '\x83':
                    Take(2);
                    Push(null);
                    break;
                case 'G':
                    Take(8);
                    Push(null);
                    break;
                case '\x80':
                    Take(1);
                    break;
                case '\x95':
                    Take(8);
                    break;
                case '(' or '0' or '1' or '2' or 'N' or 'R' or 'a' or 'b' or 'd' or '}' or 'e' or 'l' or ']' or 'o'
                    or 's' or 't' or ')' or 'u' or 'Q' or '\x81' or '\x85' or '\x86' or '\x87' or '\x88' or '\x89'
                    or '\x8f' or '\x90' or '\x91' or '\x92' or '\x97' or '\x98':
                    Push(null);
                    break;
                default:
                    throw Broken($"unknown opcode 0x{opcode:x2}");
            }
        }
        throw Broken("the pickle has no STOP opcode");
    }
}
