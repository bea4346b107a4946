using BenchmarkDotNet.Running;

// Careful kernel work, outside CI: dotnet run -c Release --project tests/Plastic.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Plastic.Benchmarks.GemmBenchmarks).Assembly).Run(args);
