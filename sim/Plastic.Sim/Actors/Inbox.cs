using Akka.Actor;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// The one way a node handles a message: inside the message's span, after checking it against the
/// graph's wiring; anything that throws (a locality violation, a rule's error) stops the node and
/// reports the node, the step and the reason to the driver, which stops the run. A message that comes
/// before the node's Connect (over a cluster, a neighbour's Forward can overtake the driver's Connect: they
/// come from different senders) is kept and handled once the node is connected.
/// </summary>
internal sealed class Inbox(string node, Wiring wiring, IActorRef driver)
{
    private List<(ISimMessage Message, Action Body)>? _early = [];

    /// <summary>The node has its Connect: the messages that came before it are handled now, in their order.</summary>
    public void Connected(IActorContext context)
    {
        if (_early is not { } early) return;
        _early = null;
        foreach (var (message, body) in early) Handle(message, body, context);
    }

    public void Handle(ISimMessage message, Action body, IActorContext context)
    {
        if (_early is not null)
        {
            _early.Add((message, body));
            return;
        }
        using var span = SimTelemetry.StartHandling(node, message);
        try
        {
            wiring.Check(message.From, node, message.Kind);
            body();
        }
        catch (Exception e)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            driver.Tell(new NodeFailed(node, message.Step, e.Message));
            context.Stop(context.Self);
        }
    }
}
