// Runs the suite: dotnet run -c Release --project benchmarks/Hffer.MLNet.Benchmarks [-- --filter *TrainingStep*]

using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Hffer.MLNet.Benchmarks.TrainingStepBenchmarks).Assembly).Run(args);
