// A function built with aws-lambda-go v1.17.0 (2020): it serves only the
// retired go1.x RPC protocol and never asks the Runtime API for an
// invocation. It writes its pid first, so the tests can check it is gone.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	pid := fmt.Sprintf(`{"pid":%d}`, os.Getpid())
	os.WriteFile(filepath.Join(os.Getenv("LAMBDA_TASK_ROOT"), "..", "..", "old-go.pid.json"), []byte(pid), 0o644)
	lambda.Start(func() (string, error) { return "never", nil })
}
