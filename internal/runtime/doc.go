// Package runtime runs function invocations in warm instances.
//
// An instance runs one invocation at a time, so every line it prints
// belongs to exactly one invocation, and module state is never shared
// between two invocations that run at once: a function busy N times has N
// instances, as on Lambda. The Worker interface hides how an instance
// runs: JS and TS instances are worker threads inside a few shared Node
// hosts (NodeHosts; see nodeboot/PROTOCOL.md), or Node processes for
// functions that cannot run in a thread; Go and other Lambda runtimes are
// processes that speak the AWS Lambda Runtime API.
//
// A Pool per function starts instances on demand up to a cap, reuses idle
// ones, queues invocations beyond the cap without dropping any, and
// replaces instances that crash, exit or time out. A Budget shared by the
// pools caps the instances of all functions together and stops those idle
// past a timeout, so idle memory does not grow with the site.
//
// An invocation may go on after its answer: a streamed body (Result.Stream,
// read chunk by chunk under credit-based flow control, so bgfn holds at
// most a window of it) and v2 context.waitUntil work. The instance stays
// busy, under the same deadline, until both are over (Result.Wait).
package runtime
