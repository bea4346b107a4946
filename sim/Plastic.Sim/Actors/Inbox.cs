using Akka.Actor;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// The one way a node handles a message: inside the message's span, after checking it against the
/// graph's wiring; anything that throws (a locality violation, a rule's error) stops the node and
/// reports the node, the step and the reason to the driver, which stops the run.
/// </summary>
internal sealed class Inbox(string node, Wiring wiring, IActorRef driver)
{
    public void Handle(ISimMessage message, Action body, IActorContext context)
    {
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
