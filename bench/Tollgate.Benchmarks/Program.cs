using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Micro-benchmarks of the hot-path pieces, with allocations (README "Benchmarks"):
//   dotnet run -c Release --project bench/Tollgate.Benchmarks              # all, about 3 minutes
//   dotnet run -c Release --project bench/Tollgate.Benchmarks -- --smoke   # each once: checks they run (bench/run.sh --smoke)
// Other BenchmarkDotNet options pass through, e.g. --filter '*Ledger*'.
// bench/ledger-scale.sh uses the same program to fill a large ledger: seed-ledger, postgres-db (LedgerSeed.cs).
if (args is ["seed-ledger", ..] or ["postgres-db", ..])
{
    return Tollgate.Benchmarks.LedgerSeed.Run(args);
}

var smoke = args.Contains("--smoke");
var rest = args.Where(a => a != "--smoke").ToList();
if (!rest.Contains("--filter"))
{
    rest.AddRange(["--filter", "*"]);
}

// In-process: no generated project to build and restore, so it runs offline and in seconds.
var job = (smoke ? Job.Dry : Job.Default.WithWarmupCount(3).WithIterationCount(12)).WithToolchain(InProcessEmitToolchain.Instance);
var config = ManualConfig.Create(DefaultConfig.Instance).AddJob(job).AddDiagnoser(MemoryDiagnoser.Default);
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Tollgate.Benchmarks.HotPathBenchmarks).Assembly).Run([.. rest], config);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
