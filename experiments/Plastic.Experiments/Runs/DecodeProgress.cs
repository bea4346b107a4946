namespace Plastic.Experiments.Runs;

/// <summary>
/// Progress of decoding an image folder into its cache: a bar redrawn in place on a terminal, else a line
/// at each quarter (logs and CI keep a handful of lines, not thousands). Decoding threads report at once,
/// so each report takes a lock.
/// </summary>
public static class DecodeProgress
{
    public static Action<int, int> For(Action<string> log)
    {
        var gate = new Lock();
        int shown = -1;
        bool terminal = !Console.IsErrorRedirected;
        return (done, total) =>
        {
            int step = (int)((terminal ? 30L : 4L) * done / total);
            lock (gate)
            {
                if (step <= shown) return;
                shown = step;
                if (!terminal)
                {
                    if (step > 0) log($"  decoded {done:N0} / {total:N0} images");
                    return;
                }
                Console.Error.Write($"\r  decoding [{new string('#', step)}{new string('.', 30 - step)}] {done:N0} / {total:N0}");
                if (done == total) Console.Error.WriteLine();
            }
        };
    }
}
