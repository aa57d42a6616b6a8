namespace Sandbox.Server.Runtime;

/// <summary>Which cgroup hierarchy the machine offers for box limits.</summary>
internal enum CgroupMode
{
    None,
    V1,
    V2,
}
