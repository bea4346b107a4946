using Akka.Configuration;

namespace Plastic.Tests.Sim;

/// <summary>
/// TestKit settings for a shared 2-core machine running other test classes at the same time: waits
/// for an expected message up to 30 s instead of 3 s (absence checks keep their own short windows).
/// </summary>
public static class ActorTestConfig
{
    public static readonly Config Patient = ConfigurationFactory.ParseString("akka.test.single-expect-default = 30s\nakka.loglevel = WARNING");
}
