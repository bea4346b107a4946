namespace Plastic.Sim.Actors;

/// <summary>
/// A node's start-up work that can fail on what the user gave it (a checkpoint file that reads as an .npz but
/// belongs to another layer): the failure is kept, not thrown from the actor's constructor (Akka would log a
/// stack dump and nobody would tell the driver), and reported as <see cref="NodeFailed"/> once the node is
/// connected, so the run stops with one line naming the node and the file.
/// </summary>
public static class NodeStart
{
    public const string FailurePrefix = "could not start: ";

    /// <summary>Null when <paramref name="work"/> succeeded, else why it failed.</summary>
    public static string? Try(Action work)
    {
        try
        {
            work();
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
        {
            return FailurePrefix + e.Message;
        }
    }
}
