namespace Plastic.Compute;

/// <summary>
/// Pinned float arrays lent out and given back, kept by exact length. A message between two layers of one process
/// travels in one (<c>TensorPayload.Lent</c>); a layer on a host backend takes it as its input tensor without a copy
/// (<see cref="IComputeBackend.Adopt"/>) and gives it back when that tensor is disposed, so the same few arrays go
/// round the graph step after step instead of megabytes of new ones. Pinned, because a host tensor's kernels hold
/// raw pointers into its array.
/// </summary>
public static class HostArrays
{
    /// <summary>Arrays kept per length: the messages in flight on one edge at once, with room for a pipelined graph.</summary>
    private const int KeptPerLength = 16;

    private static readonly Dictionary<int, Stack<float[]>> Kept = [];
    private static readonly Lock Gate = new();
    // Arrays lent and not given back, held weakly: one that leaves the process inside a message is left to the GC.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<float[], object> Out = [];
    private static readonly object Mark = new();

    /// <summary>A pinned array of exactly <paramref name="length"/> floats, a kept one where there is one; its values are not cleared.</summary>
    public static float[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        float[]? array = null;
        lock (Gate)
            if (Kept.TryGetValue(length, out var stack)) stack.TryPop(out array);
        array ??= GC.AllocateUninitializedArray<float>(length, pinned: true);
        Out.AddOrUpdate(array, Mark);
        return array;
    }

    /// <summary>Whether <paramref name="array"/> came from <see cref="Rent"/> and has not been given back (so it is pinned and the holder's to give).</summary>
    public static bool IsLent(float[] array) => Out.TryGetValue(array, out _);

    /// <summary>Gives back an array from <see cref="Rent"/>; the caller must not touch it after. Past the cap it is left to the GC.</summary>
    public static void Return(float[] array)
    {
        if (!Out.Remove(array))
            throw new ArgumentException($"HostArrays.Return: an array of {array.Length} floats that was not lent, or was given back already.", nameof(array));
        lock (Gate)
        {
            if (!Kept.TryGetValue(array.Length, out var stack)) Kept[array.Length] = stack = new Stack<float[]>();
            if (stack.Count < KeptPerLength) stack.Push(array);
        }
    }

    /// <summary>How many arrays of <paramref name="length"/> floats wait to be lent again (for the tests).</summary>
    internal static int KeptCount(int length)
    {
        lock (Gate) return Kept.TryGetValue(length, out var stack) ? stack.Count : 0;
    }
}
