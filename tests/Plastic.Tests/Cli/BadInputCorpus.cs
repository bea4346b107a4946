using static Plastic.Tests.Cli.BadInput;

namespace Plastic.Tests.Cli;

/// <summary>
/// Bad input a careless or hostile user gives: specs, flags, data files, run folders and checkpoints,
/// weights, traces, environment variables. Most were once a stack trace, a hang, a misleading message or
/// a changed run folder (issue 17).
/// </summary>
public static partial class BadInputCorpus
{
    private const string Synthetic = "\"network\": \"mlp-3\", \"dataset\": \"synthetic\"";
    private const string Killed = "run mlp-3 --synthetic --batch 4 --steps 6 --checkpoint-every 3";
    private const string Net = "\"name\": \"x\", \"input\": { \"channels\": 1, \"height\": 8, \"width\": 8 }, \"rule\": \"clapp++\"";

    private static BadInput Spec(string name, string json, string expected) =>
        new(name, "run {F} --out {O}", expected) { Files = File("spec.json", json) };

    private static BadInput Network(string name, string layers, string expected) =>
        new(name, "run {F} --synthetic --out {O}", expected) { Files = File("net.json", $"{{ {Net}, \"layers\": [{layers}] }}") };

    private static BadInput Flags(string name, string flags, string expected) => new(name, $"run mlp-3 --synthetic --steps 2 {flags} --out {{O}}", expected);

    private static BadInput Data(string name, string dataset, IReadOnlyDictionary<string, byte[]> files, string expected) =>
        new(name, $"run {(dataset == "cifar10" ? "vgg6-cifar-small" : "mlp-3")} --dataset {dataset} --data {{D}} --steps 2 --out {{O}}", expected) { Files = files };

    private static BadInput Resume(string name, string flags, string expected, IReadOnlyDictionary<string, byte[]>? files = null) =>
        new(name, $"{Killed} {flags} --resume --out {{O}}".Replace("  ", " ", StringComparison.Ordinal), expected) { Folder = BadInputFolder.Killed, Files = files ?? new Dictionary<string, byte[]>() };

    private static BadInput Environment(string name, string variable, string value, string expected, string command = "run mlp-3 --synthetic --steps 2 --out {O}") =>
        new(name, command, expected) { Environment = new Dictionary<string, string> { [variable] = value } };

    public static IEnumerable<BadInput> Specs =>
    [
        Spec("malformed spec", """{ "network": """, "{F}: not valid JSON (line"),
        Spec("empty spec", "", "{F}: the file is empty"),
        Spec("array spec", "[1, 2]", "{F}: a spec is a JSON object"),
        Spec("string spec", "\"hello\"", "{F}: a spec is a JSON object"),
        Spec("spec without network", """{ "steps": 3 }""", "{F}: not a spec plastic run knows: a run spec names its 'network'"),
        Spec("duplicate key", """{ "network": "mlp-3", "network": "mlp-3", "dataset": "synthetic" }""", "{F}: the key 'network' is given twice"),
        Spec("learning rate overflows", $$"""{ {{Synthetic}}, "optimizer": { "learningRate": 1e400 } }""", "{F}: optimizer.learningRate must be a finite number above 0"),
        Spec("negative learning rate", $$"""{ {{Synthetic}}, "optimizer": { "learningRate": -1 } }""", "{F}: optimizer.learningRate must be a finite number above 0"),
        Spec("negative weight decay", $$"""{ {{Synthetic}}, "optimizer": { "weightDecay": -1 } }""", "{F}: optimizer.weightDecay must be a finite number, 0 or more"),
        Spec("checkpointKeep 0", $$"""{ {{Synthetic}}, "checkpointKeep": 0 }""", "{F}: checkpointKeep is how many complete checkpoints to keep"),
        Spec("steps 0", $$"""{ {{Synthetic}}, "steps": 0 }""", "{F}: 'steps' must be at least 1, got 0"),
        Spec("batch 0", $$"""{ {{Synthetic}}, "batch": 0 }""", "{F}: 'batch' must be at least 2"),
        Spec("batch as text", $$"""{ {{Synthetic}}, "batch": "abc" }""", "{F}: batch: the value is not what this key takes; expected a whole number"),
        Spec("negative seed", $$"""{ {{Synthetic}}, "seed": -1 }""", "{F}: seed: the value is not what this key takes; expected a whole number, 0 or more"),
        Spec("rule as a number", $$"""{ {{Synthetic}}, "rule": 123 }""", "{F}: rule: the value is not what this key takes; expected text in quotes"),
        Spec("unknown key", $$"""{ {{Synthetic}}, "stepz": 2 }""", "{F}: unknown key 'stepz'"),
        Spec("unknown probe key", $$"""{ "network": "mlp-3", "dataset": "mnist", "probe": { "epochz": 3 } }""", "{F}: unknown key 'probe.epochz'"),
        Spec("unknown preset", """{ "network": "vgg7", "dataset": "synthetic" }""", "network 'vgg7': not a preset"),
        Spec("missing network file", """{ "network": "nets/none.json", "dataset": "synthetic" }""", "none.json: no such spec file"),
        Spec("unknown data set", """{ "network": "mlp-3", "dataset": "imagenet" }""", "dataset 'imagenet': not a data set Plastic reads"),
        Spec("unknown graph", $$"""{ {{Synthetic}}, "graph": "sideways" }""", "{F}: graph 'sideways': choose local or backprop"),
        Spec("unknown negatives", $$"""{ {{Synthetic}}, "negatives": "prev" }""", "negatives 'prev': not a negative sampling Plastic knows"),
        Spec("greedy without layer steps", $$"""{ {{Synthetic}}, "schedule": "greedy" }""", "{F}: the greedy schedule needs 'layerEpochs' or 'layerSteps'"),
        Spec("layer steps without greedy", $$"""{ {{Synthetic}}, "layerSteps": [1, 1, 1] }""", "{F}: 'layerEpochs' / 'layerSteps' belong to the greedy schedule"),
        Spec("negative alignEvery", $$"""{ {{Synthetic}}, "alignEvery": -1 }""", "{F}: alignEvery is 0 (off) or a number of steps, got -1"),
        Spec("negative checkpointEvery", $$"""{ {{Synthetic}}, "checkpointEvery": -3 }""", "{F}: checkpointEvery is 0 (off) or a number of steps, got -3"),
        Spec("probe of synthetic data", $$"""{ {{Synthetic}}, "probe": { "epochs": 1 } }""", "{F}: 'probe' needs a labelled data set"),
        Spec("steps and epochs", """{ "network": "mlp-3", "dataset": "mnist", "steps": 3, "epochs": 1 }""", "{F}: give 'steps' or 'epochs', not both"),
        Spec("epochs of synthetic data", $$"""{ {{Synthetic}}, "epochs": 1 }""", "{F}: 'epochs' needs a data set"),
        Spec("ssl split of synthetic data", $$"""{ {{Synthetic}}, "sslSplit": "train" }""", "{F}: 'sslSplit' chooses a data set's training images"),
        Spec("augment scale above 1", $$"""{ {{Synthetic}}, "augment": { "minScale": 2 } }""", "{F}: augment.minScale must be in (0, 1]"),
        Spec("placement without a cluster", $$"""{ {{Synthetic}}, "placement": "worker1=fc1" }""", "placement: takes effect over a cluster"),
        Spec("fault of no layer", $$"""{ {{Synthetic}}, "steps": 2, "faults": ["fc9@1"] }""", "faults 'fc9@1'"),
        Spec("unknown device", $$"""{ {{Synthetic}}, "device": "quantum" }""", "device 'quantum': not a device"),
    ];

    public static IEnumerable<BadInput> Networks =>
    [
        Network("layer width 0", """{ "name": "a", "kind": "linear", "width": 0 }""", "{F}: layer 1 'a': field 'width' is 0"),
        Network("duplicate layer names", """{ "name": "a", "kind": "linear", "width": 4 }, { "name": "a", "kind": "linear", "width": 4 }""", "field 'name' repeats an earlier layer's name"),
        Network("unknown layer kind", """{ "name": "a", "kind": "lstm", "width": 4 }""", "field 'kind' is 'lstm'"),
        Network("shapes that do not chain", string.Join(", ", "abcd".Select(n => $$"""{ "name": "{{n}}", "kind": "conv", "width": 4, "maxPool": 2 }""")), "the shapes do not chain"),
        new("unknown network field", "run {F} --synthetic --out {O}", "{F}: unknown field 'edges'") { Files = File("net.json", $$"""{ {{Net}}, "layers": [{ "name": "a", "kind": "linear", "width": 4 }], "edges": [] }""") },
        new("input without channels", "run {F} --synthetic --out {O}", "field 'input' is 0x8x8") { Files = File("net.json", """{ "name": "x", "input": { "channels": 0, "height": 8, "width": 8 }, "rule": "clapp++", "layers": [{ "name": "a", "kind": "linear", "width": 4 }] }""") },
        new("describe: unknown rule", "describe {F}", "rule 'clapp+++' is not in the catalogue") { Files = File("net.json", $$"""{ {{Net.Replace("clapp++", "clapp+++", StringComparison.Ordinal)}}, "layers": [{ "name": "a", "kind": "linear", "width": 4 }] }""") },
        new("describe: a layer too wide for a tensor", "describe {F}", "{F}: layer 1 'a': 130,000,000,000 weights") { Files = File("net.json", $$"""{ {{Net}}, "layers": [{ "name": "a", "kind": "linear", "width": 2000000000 }] }""") },
        new("describe: missing file", "describe {D}/none.json", "{D}/none.json: no such spec file"),
    ];

    public static IEnumerable<BadInput> CommandLines =>
    [
        new("steps not a number", "run mlp-3 --synthetic --steps abc --out {O}", "Cannot parse argument 'abc' for option '--steps' as a whole number"),
        Flags("negative seed flag", "--seed -1", "for option '--seed' as a whole number, 0 or more"),
        Flags("negative batch", "--batch -4", "'batch' must be at least 2"),
        Flags("learning rate 0", "--lr 0", "optimizer.learningRate must be a finite number above 0"),
        Flags("unknown graph flag", "--graph sideways", "graph 'sideways': choose local or backprop"),
        Flags("negative checkpoint flag", "--checkpoint-every -1", "checkpointEvery is 0 (off) or a number of steps, got -1"),
        Flags("negative align flag", "--align-every -2", "alignEvery is 0 (off) or a number of steps, got -2"),
        Flags("set without =", "--set steps", "--set steps: expected path=value"),
        Flags("set of text for a number", "--set steps=abc", "steps: the value is not what this key takes; expected a whole number"),
        Flags("set of an unknown key", "--set stepz=3", "stepz"),
        Flags("no worker processes", "--local-cluster 0", "--local-cluster 0: at least 1 worker process"),
        Flags("cluster and local cluster", "--local-cluster 2 --cluster 127.0.0.1:1", "--cluster 127.0.0.1:1 and --local-cluster 2: give one, not both"),
        Flags("driver's lane port out of range", "--cluster 127.0.0.1:1 --cluster-lane-port 70000", "--cluster-lane-port 70000: give a port from 1 to 65535, or 0 for any free port"),
        new("node: lane port out of range", "node --role worker1 --seed 127.0.0.1:1 --lane-port 70000", "--lane-port 70000: give a port from 1 to 65535, or 0 for any free port"),
        Flags("negative recover timeout", "--local-cluster 2 --recover-timeout -1", "--recover-timeout -1: give seconds from 0 to 86400"),
        Flags("placement flag without a cluster", "--placement worker1=fc1", "placement: takes effect over a cluster"),
        Flags("variant of no comparison", "--variant A", "--variant picks a variant of a comparison spec"),
        Flags("unknown device flag", "--device quantum", "device 'quantum': not a device"),
        Flags("unknown flag", "--stepz 3", "Unrecognized command or argument '--stepz'. (plastic run --help lists what it takes)"),
        Flags("unknown rule", "--rule clap++", "rule 'clap++' is not in the catalogue"),
        Flags("contradictory rule options", "--rule clapp++/softplus/linear", "'softplus' and 'linear' both set the score function f"),
        Flags("unknown rule option", "--rule clapp++/tanh", "unknown option 'tanh'"),
        Flags("backprop baseline on the local graph", "--rule bp-infonce", "'bp-infonce' is a backprop baseline"),
        Flags("pipelined backprop", "--graph backprop --rule bp-clapp++ --schedule pipelined", "backward-locked"),
        Flags("unknown schedule", "--schedule fast", "schedule 'fast': choose pipelined, sequential or greedy"),
        new("synthetic and a data set", "run mlp-3 --synthetic --dataset cifar10 --out {O}", "--synthetic and --dataset cifar10: give one, not both"),
        new("no data", "run mlp-3 --out {O}", "Choose the data"),
        new("unknown command", "runn mlp-3", "(plastic --help lists what it takes)"),
        new("resume without --out", "run mlp-3 --synthetic --resume", "--resume needs --out"),
        new("resume and overwrite", "run mlp-3 --synthetic --resume --overwrite --out {O}", "give one"),
        new("resume of nothing", "run mlp-3 --synthetic --resume --out {O}", "holds no run to resume"),
        new("output is a file", "run mlp-3 --synthetic --out {F}", "{F}: is a file") { Files = File("taken", "{}") },
        new("output where no folder can be made", "run mlp-3 --synthetic --steps 2 --out /proc/plastic-run", "--out /proc/plastic-run: cannot create the run folder there"),
        new("missing spec file", "run {D}/no/such/spec.json --out {O}", "no such file, and not a preset"),
        new("comparison without variant for bench", "bench train {F}", "{F} is a comparison: name a variant with --variant (A)")
        {
            Files = File("compare.json", """{ "name": "c", "base": { "network": "mlp-3" }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ] }"""),
        },
        new("bench of a missing spec", "bench train {D}/none.json", "{D}/none.json: no such spec file"),
        new("comparison without variants", "compare {F} --out {O}", "{F}: 'variants' must be a non-empty array")
        {
            Files = File("compare.json", $$"""{ "name": "c", "base": { {{Synthetic}}, "steps": 2 }, "variants": [] }"""),
        },
        new("comparison with a variant twice", "compare {F} --out {O}", "{F}: variant name 'A' is used 2 times")
        {
            Files = File("compare.json", $$"""{ "name": "c", "base": { {{Synthetic}}, "steps": 2 }, "variants": [{ "name": "A", "set": { "rule": "clapp++" } }, { "name": "A", "set": { "rule": "clapp" } }] }"""),
        },
        new("comparison setting an unknown key", "compare {F} --out {O}", "{F}: variant 'A' (seed 2): unknown key 'stepz'")
        {
            Files = File("compare.json", $$"""{ "name": "c", "base": { {{Synthetic}}, "steps": 2 }, "variants": [{ "name": "A", "set": { "stepz": 3 } }] }"""),
        },
        new("theory: missing initial weights", "theory fig2 --synthetic --init {D}/none.npz --out {O}", "--init {D}/none.npz: no such file"),
        new("theory: initial weights not an npz", "theory fig2 --synthetic --init {F} --out {O}", "--init {F}: not an .npz") { Files = File("init.npz", "garbage") },
        new("theory: unknown experiment", "theory fig9 --out {O}", "Unknown theory experiment 'fig9'"),
        new("data: unknown data set", "data fetch imagenet --data {D}", "dataset 'imagenet': not a data set Plastic reads"),
    ];

    public static IEnumerable<BadInput> DataFiles =>
    [
        Data("MNIST images not gzip", "mnist", new Dictionary<string, byte[]>(Mnist([1, 2])) { ["mnist/train-images-idx3-ubyte.gz"] = "not gzip"u8.ToArray() },
            "{D}/mnist/train-images-idx3-ubyte.gz: not a readable gzip file"),
        Data("MNIST images cut short", "mnist", new Dictionary<string, byte[]>(Mnist([1, 2])) { ["mnist/train-images-idx3-ubyte.gz"] = Gzip(Idx([2, 28, 28], new byte[900])) },
            "{D}/mnist/train-images-idx3-ubyte.gz: truncated at offset"),
        Data("MNIST images empty", "mnist", new Dictionary<string, byte[]>(Mnist([1, 2])) { ["mnist/train-images-idx3-ubyte.gz"] = Gzip([]) },
            "{D}/mnist/train-images-idx3-ubyte.gz: truncated at offset 0"),
        Data("MNIST images with a bad magic number", "mnist", new Dictionary<string, byte[]>(Mnist([1, 2])) { ["mnist/train-images-idx3-ubyte.gz"] = Gzip([1, 2, 3, 4, 5, 6]) },
            "{D}/mnist/train-images-idx3-ubyte.gz: offset 0: bad IDX magic number"),
        Data("MNIST label out of range", "mnist", Mnist([1, 42, 3]), "{D}/mnist/train-labels-idx1-ubyte.gz: record 1 (offset 9) has label 42; expected 0 to 9"),
        Data("MNIST labels and images disagree", "mnist", Mnist([1, 2, 3], images: 2), "{D}/mnist/train-labels-idx1-ubyte.gz: 3 labels for the 2 images"),
        Data("MNIST missing", "fashion-mnist", Mnist([1, 2]), "no train-images-idx3-ubyte[.gz] under {D}/fashion-mnist"),
        Data("CIFAR-10 batch not whole records", "cifar10", File("cifar-10-batches-bin/data_batch_1.bin", new byte[10_000]),
            "{D}/cifar-10-batches-bin/data_batch_1.bin: 10000 bytes is not a whole number of 3073-byte records"),
        Data("CIFAR-10 label out of range", "cifar10", File("cifar-10-batches-bin/data_batch_1.bin", [99, .. new byte[3072]]),
            "{D}/cifar-10-batches-bin/data_batch_1.bin: record 0 (offset 0) has label 99; expected 0 to 9"),
        new("data root is a file", "run mlp-3 --dataset mnist --data {F} --steps 2 --out {O}", "--data {F}: is a file") { Files = File("root", "x") },
    ];

    public static IEnumerable<BadInput> RunFolders =>
    [
        Resume("resume with another seed", "--seed 9", "--resume {O}: the run there was made with another config; these keys differ: run.seed, seed"),
        Resume("resume with another learning rate", "--lr 1e-3", "these keys differ: learning_rate, run.optimizer.learningRate"),
        Resume("resume with another rule", "--rule clapp", "these keys differ: run.rule, spec.rule"),
        Resume("resume with other negatives", "--negatives random", "these keys differ: negatives, run.negatives"),
        Resume("resume with more steps", "--set steps=9", "these keys differ: run.steps, steps"),
        new("resume with another network", "run deep-linear --synthetic --batch 4 --steps 6 --checkpoint-every 3 --resume --out {O}", "these keys differ: run.network") { Folder = BadInputFolder.Killed },
        new("resume with every checkpoint damaged", $"{Killed} --resume --out {{O}}", "every complete checkpoint in {O}/checkpoints is damaged") { Folder = BadInputFolder.Killed, Files = Damaged("O/checkpoints/step-00000002", "O/checkpoints/step-00000005") },
        new("resume with a layer file missing from every checkpoint", $"{Killed} --resume --out {{O}}", "{O}/checkpoints/step-00000002/fc2.npz: missing (the checkpoint lists it)")
        {
            Folder = BadInputFolder.Killed,
            Removed = ["O/checkpoints/step-00000002/fc2.npz", "O/checkpoints/step-00000005/fc2.npz"],
        },
        new("resume with damaged markers", $"{Killed} --resume --out {{O}}", "{O}/checkpoints holds no complete checkpoint of this run")
        {
            Folder = BadInputFolder.Killed,
            Files = new Dictionary<string, byte[]> { ["O/checkpoints/step-00000002/complete"] = "{"u8.ToArray(), ["O/checkpoints/step-00000005/complete"] = "{"u8.ToArray() },
        },
        new("resume with a damaged config", $"{Killed} --resume --out {{O}}", "{O}/config.resolved.json: not valid JSON") { Folder = BadInputFolder.Killed, Files = File("O/config.resolved.json", "{broken") },
        new("a new run into a run's folder", $"{Killed} --out {{O}}", "--out {O}: holds a run already") { Folder = BadInputFolder.Killed },
        new("a run into a folder another run holds", $"{Killed} --resume --out {{O}}", "--out {O}: another run (process")
        {
            Folder = BadInputFolder.Killed,
            Files = File("O/.plastic.lock", $"{System.Environment.ProcessId} {System.Environment.MachineName}\n"),
        },
        new("resume of a run folder under another config file", $"{Killed} --resume --out {{O}}", "{O}/config.resolved.json: not a JSON object") { Folder = BadInputFolder.Killed, Files = File("O/config.resolved.json", "[1]") },
    ];

    public static IEnumerable<BadInput> RunFiles =>
    [
        new("probe: weights cut short", "probe {O} --dataset mnist --data {D}", "{O}/weights.npz: not an .npz") { Folder = BadInputFolder.Finished, Files = File("O/weights.npz", new byte[500]) },
        new("probe: weights of random bytes", "probe {O} --dataset mnist --data {D}", "{O}/weights.npz: not an .npz")
        {
            Folder = BadInputFolder.Finished,
            Files = File("O/weights.npz", [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 37 % 251))]),
        },
        new("probe: a folder without weights", "probe {D} --dataset mnist --data {D}", "{D}: no weights.npz"),
        new("probe: weights without a config", "probe {O} --dataset mnist --data {D}", "{O}: no config.resolved.json to say which network") { Folder = BadInputFolder.Finished, Removed = ["O/config.resolved.json"] },
        new("probe: a damaged config", "probe {O} --dataset mnist --data {D}", "{O}/config.resolved.json: not valid JSON") { Folder = BadInputFolder.Finished, Files = File("O/config.resolved.json", "{") },
        new("trace: empty traces", "trace {O}", "{O}/traces.jsonl: no message spans") { Folder = BadInputFolder.Finished, Files = File("O/traces.jsonl", "") },
        new("trace: no traces file", "trace {O}", "{O}: no traces.jsonl") { Folder = BadInputFolder.Finished, Removed = ["O/traces.jsonl"] },
        new("trace: a damaged span line", "trace {O}", "{O}/traces.jsonl:1: not a span line") { Folder = BadInputFolder.Finished, Files = File("O/traces.jsonl", "{oops\n{oops\n") },
        new("trace: a damaged config", "trace {O}", "{O}/config.resolved.json: not valid JSON") { Folder = BadInputFolder.Finished, Files = File("O/config.resolved.json", "{") },
        new("trace: no run folder", "trace {D}/none", "{D}/none: no config.resolved.json"),
    ];

    public static IEnumerable<BadInput> EnvironmentVariables =>
    [
        Environment("device from the environment", "PLASTIC_DEVICE", "quantum", "PLASTIC_DEVICE 'quantum': not a device"),
        Environment("threads not a number", "PLASTIC_THREADS", "abc", "PLASTIC_THREADS='abc' must be a positive integer"),
        Environment("threads 0", "PLASTIC_THREADS", "0", "PLASTIC_THREADS='0' must be a positive integer"),
        Environment("SIMD width not a number", "PLASTIC_SIMD", "wide", "PLASTIC_SIMD='wide' must be a positive integer"),
        Environment("unknown convolution", "PLASTIC_CONV", "fft", "PLASTIC_CONV='fft' must be one of: auto, im2col, winograd"),
        Environment("fault of no layer from the environment", "PLASTIC_FAULTS", "nolayer@1", "faults 'nolayer@1' (the spec's 'faults' or $PLASTIC_FAULTS)"),
        Environment("fault after the last step", "PLASTIC_FAULTS", "fc1@99", "faults 'fc1@99'"),
        Environment("data root from the environment is a file", "PLASTIC_DATA", "/proc/self/status", "PLASTIC_DATA /proc/self/status: is a file", "run mlp-3 --dataset mnist --steps 2 --out {O}"),
        Environment("tensor lanes neither on nor off", "PLASTIC_LANES", "yes", "PLASTIC_LANES='yes' must be on, tcp or off", "run mlp-3 --synthetic --steps 2 --local-cluster 2 --out {O}"),
        Environment("telemetry endpoint not an address", "OTEL_EXPORTER_OTLP_ENDPOINT", "notaurl", "OTEL_EXPORTER_OTLP_ENDPOINT 'notaurl': not an http(s) address"),
    ];

    public static IEnumerable<BadInput> All => [.. Specs, .. Networks, .. CommandLines, .. DataFiles, .. ImageFolders, .. RunFolders, .. RunFiles, .. EnvironmentVariables];

    /// <summary>Every layer file of these checkpoint folders (the killed run's: fc1 .. fc3) replaced by bytes that are not an .npz.</summary>
    private static Dictionary<string, byte[]> Damaged(params string[] folders) =>
        folders.SelectMany(f => new[] { "fc1", "fc2", "fc3" }.Select(l => $"{f}/{l}.npz")).ToDictionary(p => p, _ => new byte[100]);
}
