package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/blobs"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// BlobsOptions are the flags and arguments of `bgfn blobs ACTION`.
type BlobsOptions struct {
	Factory *Factory
	// Action is list, get, set or delete.
	Action   string
	Store    string
	HasStore bool
	Key      string
	Deploy   bool
	Prefix   string
	JSON     bool
	Output   string
	Data     string
	DataSet  bool
	Metadata string
}

// NewCmdBlobs builds `bgfn blobs` and its list, get, set and delete
// commands, shaped like netlify-cli's blobs:* commands.
func NewCmdBlobs(f *Factory, runF func(context.Context, *BlobsOptions) error) *cobra.Command {
	opts := &BlobsOptions{Factory: f}
	run := func(cmd *cobra.Command, action string) error {
		opts.Action = action
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return runBlobs(cmd.Context(), opts)
	}
	exactly := func(n int, usage string) cobra.PositionalArgs {
		return func(cmd *cobra.Command, args []string) error {
			if len(args) != n {
				return usageError(fmt.Errorf("%s needs %s, got %d argument(s)", cmd.CommandPath(), usage, len(args)))
			}
			return nil
		}
	}
	parent := &cobra.Command{
		Use:   "blobs",
		Short: "Read and write the site's local Netlify Blobs",
		Long: `Read and write the Netlify Blobs your functions use locally: the data in
.netlify/blobs-serve, shared with netlify dev.

When a bgfn dev for this site is running, the commands go through it;
otherwise they work on the folder directly, under the same lock.

STORE is the name given to getStore(). With --deploy it is the name given to
getDeployStore() for the local deploy (id 0); '' is getDeployStore() without
a name.

Exit codes:
  0  success
  1  no such key, or the operation failed
  2  usage error (bad key or store name, missing --data, bad flag)`,
		Example: `  bgfn blobs list                      # the site stores
  bgfn blobs list images --prefix cats/
  bgfn blobs get images cats/tom.jpg -o tom.jpg
  bgfn blobs set settings theme --data dark --metadata '{"by":"me"}'
  bgfn blobs set images cats/tom.jpg --data @tom.jpg
  echo '{"a":1}' | bgfn blobs set config a.json --data -
  bgfn blobs delete settings theme
  bgfn blobs list --deploy ''          # getDeployStore()'s keys`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unknown command %q for bgfn blobs: use list, get, set or delete", args[0]))
			}
			return cmd.Help()
		},
	}
	parent.PersistentFlags().BoolVar(&opts.Deploy, "deploy", false, "use the deploy stores of the local deploy (getDeployStore)")

	list := &cobra.Command{
		Use:   "list [STORE]",
		Short: "List the keys of a store, or the stores",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError(fmt.Errorf("bgfn blobs list takes at most one STORE, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Store, opts.HasStore = args[0], true
			}
			return run(cmd, "list")
		},
	}
	list.Flags().StringVar(&opts.Prefix, "prefix", "", "only keys that start with this")
	list.Flags().BoolVar(&opts.JSON, "json", false, "print JSON for scripts")

	get := &cobra.Command{
		Use:   "get STORE KEY",
		Short: "Write a value's bytes to stdout (or -o FILE)",
		Args:  exactly(2, "STORE and KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Store, opts.Key = args[0], args[1]
			return run(cmd, "get")
		},
	}
	get.Flags().StringVarP(&opts.Output, "output", "o", "", "write the value to FILE instead of stdout")

	set := &cobra.Command{
		Use:   "set STORE KEY --data VALUE|@FILE|-",
		Short: "Store a value",
		Args:  exactly(2, "STORE and KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Store, opts.Key = args[0], args[1]
			opts.DataSet = cmd.Flags().Changed("data")
			return run(cmd, "set")
		},
	}
	set.Flags().StringVarP(&opts.Data, "data", "d", "", "the value: text, @FILE to read a file, - for stdin")
	set.Flags().StringVar(&opts.Metadata, "metadata", "", "metadata as a JSON object (at most 2 KB encoded)")

	del := &cobra.Command{
		Use:   "delete STORE KEY",
		Short: "Delete a value",
		Args:  exactly(2, "STORE and KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Store, opts.Key = args[0], args[1]
			return run(cmd, "delete")
		},
	}
	parent.AddCommand(list, get, set, del)
	return parent
}

func runBlobs(ctx context.Context, opts *BlobsOptions) error {
	s, err := site.Load(opts.Factory.ConfigOptions(""))
	if err != nil {
		return err
	}
	server, _ := apiclient.Find(ctx, s, 0)
	c := &blobs.Command{
		Streams: opts.Factory.IOStreams,
		BaseDir: s.Config.BaseDir,
		Server:  server,
		Deploy:  opts.Deploy,
	}
	switch opts.Action {
	case "list":
		err = c.List(ctx, blobs.ListArgs{Store: opts.Store, HasStore: opts.HasStore, Prefix: opts.Prefix, JSON: opts.JSON})
	case "get":
		err = c.Get(ctx, opts.Store, opts.Key, opts.Output)
	case "set":
		err = c.Set(ctx, blobs.SetArgs{Store: opts.Store, Key: opts.Key, Data: opts.Data, DataSet: opts.DataSet, Metadata: opts.Metadata})
	case "delete":
		err = c.Delete(ctx, opts.Store, opts.Key)
	default:
		return fmt.Errorf("unknown blobs action %q", opts.Action)
	}
	return err
}
