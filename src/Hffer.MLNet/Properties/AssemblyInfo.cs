using System.Runtime.CompilerServices;

// Tests check modules, exporters and training internals directly (parity against TorchSharp, loss formulas).
[assembly: InternalsVisibleTo("Hffer.MLNet.Tests")]
[assembly: InternalsVisibleTo("Hffer.MLNet.Benchmarks")]
[assembly: InternalsVisibleTo("Hffer.MLNet.CudaScoring")]
