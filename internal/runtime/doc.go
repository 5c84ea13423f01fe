// Package runtime runs function invocations in warm worker subprocesses.
//
// A Worker runs one invocation at a time, so every line it prints belongs to
// exactly one invocation. The Worker interface hides the transport: Node
// workers speak a private protocol over extra pipes (see
// nodeboot/PROTOCOL.md), and other runtimes can speak the AWS Lambda Runtime
// API. A Pool per function starts workers on demand up to a cap, reuses idle
// ones, queues invocations beyond the cap without dropping any, and replaces
// workers that crash, exit or time out.
package runtime
