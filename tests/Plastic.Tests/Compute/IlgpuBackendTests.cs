using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

public sealed class IlgpuCpuBackendTests(IlgpuCpuFixture f) : BackendContract<IlgpuCpuFixture>(f);
public sealed class IlgpuCudaBackendTests(IlgpuCudaFixture f) : BackendContract<IlgpuCudaFixture>(f);
