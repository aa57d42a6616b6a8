namespace Sandbox.Server.Networking.Services;

/// <summary>Why a token was refused.</summary>
internal enum TokenFailure
{
    None,
    Missing,
    Invalid,
    Expired,
    WrongTarget,
}
