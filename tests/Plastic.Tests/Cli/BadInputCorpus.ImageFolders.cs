using Plastic.Datasets.Readers;
using static Plastic.Tests.Cli.BadInput;

namespace Plastic.Tests.Cli;

/// <summary>Bad folders of images given to a run (issue 18): each named in one line, and no cache half written beside them.</summary>
public static partial class BadInputCorpus
{
    private static readonly byte[] GoodPng = PngWriter.Encode(new byte[3 * 8 * 8], 3, 8, 8);
    private static readonly byte[] CorruptJpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];
    private const string ProbeFolders = "\"probe\": { \"epochs\": 1, \"train\": { \"images\": \"train\", \"labels\": \"folders\" }, \"test\": { \"images\": \"test\", \"labels\": \"folders\" } }";

    /// <summary>A run spec whose dataset is <paramref name="dataset"/> (JSON), with <paramref name="rest"/> keys, and the files beside it.</summary>
    private static BadInput Images(string name, string dataset, string expected, (string Path, byte[] Bytes)[] files, string rest = "")
    {
        var all = new Dictionary<string, byte[]>
        {
            ["spec.json"] = System.Text.Encoding.UTF8.GetBytes($"{{ \"network\": \"vgg6-cifar-small\", \"steps\": 2, \"batch\": 2, \"dataset\": {dataset}{(rest.Length > 0 ? ", " + rest : "")} }}"),
        };
        foreach (var (path, bytes) in files) all[path] = bytes;
        return new BadInput($"images: {name}", "run {F} --out {O}", expected) { Files = all };
    }

    private static (string, byte[])[] Pngs(params string[] paths) => [.. paths.Select(p => (p, GoodPng))];

    public static IEnumerable<BadInput> ImageFolders =>
    [
        Images("a folder without images", """{ "images": "photos" }""", "dataset: {D}/photos: no .png, .jpg or .jpeg file below it", [("photos/notes.txt", "text"u8.ToArray())]),
        Images("a folder of non-images", """{ "images": "photos" }""", "dataset: {D}/photos: none of its 2 images decodes (the first: {D}/photos/a.png: not a decodable image",
            [("photos/a.png", "not a png"u8.ToArray()), ("photos/b.jpg", "not a jpeg"u8.ToArray())]),
        Images("one corrupt JPEG among good ones, strict", """{ "images": "photos", "strict": true }""", "{D}/photos/c.jpg: not a decodable image (a JPEG without its end marker",
            [.. Pngs("photos/a.png", "photos/b.png"), ("photos/c.jpg", CorruptJpeg)]),
        Images("a label CSV naming a missing file", """{ "images": "photos", "labels": "labels.csv" }""", "{D}/labels.csv:3: gone.png is not a file under {D}/photos",
            [.. Pngs("photos/a.png", "photos/b.png"), ("labels.csv", "file,label\na.png,x\ngone.png,y\n"u8.ToArray())]),
        Images("a label CSV line without a label", """{ "images": "photos", "labels": "labels.csv" }""", "{D}/labels.csv:1: expected file,label; got 'a.png'",
            [.. Pngs("photos/a.png"), ("labels.csv", "a.png\n"u8.ToArray())]),
        Images("no such folder", """{ "images": "nowhere" }""", "dataset.images 'nowhere': no such folder (looked for", []),
        Images("images naming a file", """{ "images": "photos" }""", "dataset.images 'photos': {D}/photos is a file", [("photos", GoodPng)]),
        Images("labels naming a folder", """{ "images": "photos", "labels": "photos" }""", "dataset.labels 'photos': ", [.. Pngs("photos/a.png")]),
        Images("an unknown key", """{ "images": "photos", "label": "folders" }""", "{F}: unknown key 'dataset.label'. Known in dataset: images, labels, resize, strict", []),
        Images("an object without images", """{ "labels": "folders" }""", "{F}: dataset is an object without 'images'", []),
        Images("resize not a number", """{ "images": "photos", "resize": "big" }""", "{F}: dataset.resize: a whole number of pixels", []),
        Images("resize below the network's input", """{ "images": "photos", "resize": 16 }""", "{D}/photos: resize 16 is smaller than the crop 32", [.. Pngs("photos/a.png", "photos/b.png")]),
        Images("sslSplit with a folder", """{ "images": "photos" }""", "{F}: 'sslSplit' chooses among a catalogue set's splits", [], "\"sslSplit\": \"train\""),
        Images("fewer images than a batch", """{ "images": "photos" }""", "dataset images {D}/photos: 1 images, fewer than one batch of 2", [.. Pngs("photos/a.png")]),
        Images("an image outside the class folders", """{ "images": "photos", "labels": "folders" }""", "{D}/photos/loose.png: an image directly under the root",
            [.. Pngs("photos/cat/a.png", "photos/loose.png")]),
        Images("a probe without a test set", """{ "images": "photos", "labels": "folders" }""", "{F}: probe.test: name the labelled set the probe is tested on", [],
            "\"probe\": { \"epochs\": 1 }"),
        Images("a probe on an unlabelled folder", """{ "images": "photos" }""", "{F}: probe.train: the run's folder photos has no labels", [], "\"probe\": { \"test\": \"cifar10\" }"),
        Images("probe sets of other classes", """{ "images": "photos" }""", "probe: the train set {D}/train and the test set {D}/test have other classes; only in train: dog",
            [.. Pngs("photos/a.png", "photos/b.png", "train/cat/a.png", "train/dog/b.png", "test/cat/a.png", "test/eel/b.png")], ProbeFolders),
        new("images: --dataset on a folder of non-images", "run vgg6-cifar-small --dataset {D}/photos --steps 2 --out {O}", "dataset: {D}/photos: none of its 1 images decodes")
        {
            Files = File("photos/a.png", "not a png"),
        },
    ];
}
