using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class IlgpuCpuBackendTests(IlgpuCpuFixture f) : BackendContract<IlgpuCpuFixture>(f);
public sealed class IlgpuCudaBackendTests(IlgpuCudaFixture f) : BackendContract<IlgpuCudaFixture>(f);
