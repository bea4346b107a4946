using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class IlgpuCpuBackendTests(IlgpuCpuFixture f) : BackendContract<IlgpuCpuFixture>(f);
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class IlgpuCpuConvAsGemmBackendTests(IlgpuCpuConvAsGemmFixture f) : BackendContract<IlgpuCpuConvAsGemmFixture>(f);
public sealed class IlgpuCudaBackendTests(IlgpuCudaFixture f) : BackendContract<IlgpuCudaFixture>(f);
