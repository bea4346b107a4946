using System.CommandLine;
using System.Globalization;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Readers;

namespace Plastic.Cli;

/// <summary>
/// `plastic data export &lt;name&gt; &lt;folder&gt;`: a catalogue set's split written as PNG files, one subfolder per
/// class (labels "folders") or flat (unlabelled), so image folders can be tried, and checked, on data whose
/// numbers are known: PNG is lossless, so the folder reads back to the catalogue's bytes.
/// </summary>
internal static class ImageFolderExport
{
    public static Command Build()
    {
        var name = new Argument<string>("name") { Description = $"A data set present under the data root: {string.Join(", ", DatasetCatalog.All.Select(d => d.Name))}." };
        var folder = new Argument<string>("folder") { Description = "The folder to create (it must not exist, or be empty)." };
        var root = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var split = new Option<string>("--split") { Description = "train or test.", DefaultValueFactory = _ => "train" };
        var count = new Option<int?>("--count") { Description = "Write the first N images of the split (default: all)." };
        var flat = new Option<bool>("--unlabelled") { Description = "All images in the folder itself, no class subfolders (a pre-training set)." };
        var command = new Command("export", "Write a data set's split as PNG files, one subfolder per class (or flat with --unlabelled): an image folder to try runs on.")
        {
            name, folder, root, split, count, flat,
        };
        command.SetAction(parse =>
        {
            string set = parse.GetValue(name)!, target = Path.GetFullPath(parse.GetValue(folder)!), which = parse.GetValue(split)!;
            DatasetCatalog.ByName(set);
            if (which is not ("train" or "test")) throw new ArgumentException($"--split {which}: choose train or test.");
            if (parse.GetValue(count) is < 1) throw new ArgumentException($"--count {parse.GetValue(count)}: at least 1 image.");
            if (File.Exists(target)) throw new ArgumentException($"{target}: is a file; export writes a new folder.");
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()) throw new ArgumentException($"{target}: not empty; export writes into a new or empty folder.");
            string dir = DataRoot.Resolve(parse.GetValue(root));
            LabelledImages images;
            try { images = which == "train" ? DatasetSplits.Train(dir, set) : DatasetSplits.Test(dir, set); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"{set}: {e.Message}"); }
            int n = Math.Min(parse.GetValue(count) ?? images.Count, images.Count);
            bool labelled = !parse.GetValue(flat) && images.HasLabels;
            // Written beside the target and moved into place whole: a stopped export leaves no half folder.
            string partial = $"{target}.partial-{Environment.ProcessId}";
            try
            {
                int digits = Math.Max(1, (images.Classes - 1).ToString(CultureInfo.InvariantCulture).Length);
                int done = 0;
                Parallel.For(0, n, i =>
                {
                    string sub = labelled ? images.Labels[i].ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') : "";
                    string path = Path.Combine(partial, sub, $"{i:D6}.png");
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllBytes(path, PngWriter.Encode(images.Image(i), images.Channels, images.Height, images.Width));
                    int k = Interlocked.Increment(ref done);
                    if (k % 5000 == 0) Console.Error.WriteLine($"  {k:N0} / {n:N0}");
                });
                if (Directory.Exists(target)) Directory.Delete(target);
                Directory.Move(partial, target);
            }
            finally
            {
                if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            }
            Console.WriteLine($"{target}: {n:N0} PNG images of {images.Channels}x{images.Height}x{images.Width} from {set} {which}" +
                (labelled ? $", one subfolder per class ({images.Classes}: the label, zero-padded): \"labels\": \"folders\"" : ", unlabelled"));
            return 0;
        });
        return command;
    }
}
