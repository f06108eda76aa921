namespace Tollgate.Gateway.Governance;

/// <summary>A group as limits name it: a scope and its subject (<c>team</c> <c>search</c>). Equal by scope instance and ordinal subject.</summary>
internal readonly record struct ScopedSubject(Scope Scope, string Subject);
