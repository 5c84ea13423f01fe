package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/version"
)

// NewCmdVersion builds `bgfn version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print bgfn's version",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := argsError(cmd, args); err != nil {
				return err
			}
			_, err := fmt.Fprintln(f.IOStreams.Out, version.Get().String())
			return err
		},
	}
}
