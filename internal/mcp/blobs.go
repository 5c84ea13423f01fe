package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
	"github.com/bgfn-dev/bgfn/internal/blobs"
)

// The blobs_* tools name stores as the functions do: the name given to
// getStore(), or with deploy the name given to getDeployStore() for the
// local deploy ("" for getDeployStore() without a name), as bgfn blobs
// does.

type storeArgs struct {
	Store  string `json:"store,omitempty" jsonschema:"the store's name, as the functions' getStore(name) gives it (required unless deploy is set)"`
	Deploy bool   `json:"deploy,omitempty" jsonschema:"the store is getDeployStore(name) of the local deploy; an empty store is getDeployStore() without a name"`
}

func (a storeArgs) id() (string, error) {
	if a.Deploy {
		if a.Store != "" {
			if err := blobs.ValidateStoreName(a.Store); err != nil {
				return "", badArg("store", "%v", err)
			}
		}
		return blobs.DeployStore(blobs.LocalDeployID, a.Store), nil
	}
	if a.Store == "" {
		return "", badArg("store", "give the store's name (blobs_list without a store lists them), or set deploy for getDeployStore()")
	}
	if err := blobs.ValidateStoreName(a.Store); err != nil {
		return "", badArg("store", "%v", err)
	}
	return blobs.SiteStore(a.Store), nil
}

func checkKey(key string) error {
	if err := blobs.ValidateKey(key); err != nil {
		return badArg("key", "%v", err)
	}
	return nil
}

// blobsErr explains what the Blobs API answered: a bgfn dev without it,
// a missing key, a refused one.
func blobsErr(err error, key string) error {
	var se *apiclient.StatusError
	if !errors.As(err, &se) {
		return err
	}
	switch {
	case se.Status == http.StatusNotFound && strings.Contains(se.Message(), "no such blobs API endpoint"),
		se.Status == http.StatusNotFound && !strings.HasPrefix(strings.TrimSpace(se.Body), "{"):
		return fmt.Errorf("this bgfn server does not serve the Blobs API (%s): update bgfn", blobs.APIPath)
	case se.Status == http.StatusNotFound && key != "":
		return badArg("key", "no value for key %q in that store", key)
	case se.Status == http.StatusBadRequest:
		return badArg("key", "%s", se.Message())
	}
	return err
}

// --- blobs_list

type blobsListIn struct {
	Store  string `json:"store,omitempty" jsonschema:"the store to list; leave it out to list the stores"`
	Deploy bool   `json:"deploy,omitempty" jsonschema:"the store is getDeployStore(name) of the local deploy"`
	Prefix string `json:"prefix,omitempty" jsonschema:"only keys that start with this"`
	Cursor string `json:"cursor,omitempty" jsonschema:"the next_cursor of the previous page"`
	Limit  int    `json:"limit,omitempty" jsonschema:"keys per page (default and most: 1000)"`
}

type blobsListOut struct {
	Stores      []blobs.StoreInfo `json:"stores,omitempty" jsonschema:"the stores, when no store was given"`
	Blobs       []blobs.Entry     `json:"blobs,omitempty" jsonschema:"the keys of the store: key, size, lastModified, etag"`
	Directories []string          `json:"directories,omitempty"`
	NextCursor  string            `json:"next_cursor,omitempty" jsonschema:"pass it as cursor for the next page"`
}

func (b *bgfn) blobsList(ctx context.Context, c *apiclient.Client, in blobsListIn) (blobsListOut, string, error) {
	if in.Store == "" && !in.Deploy {
		if in.Prefix != "" || in.Cursor != "" {
			return blobsListOut{}, "", badArg("store", "prefix and cursor list the keys of a store: give the store")
		}
		stores, err := c.BlobStores(ctx)
		if err != nil {
			return blobsListOut{}, "", blobsErr(err, "")
		}
		names := make([]string, len(stores))
		for k, s := range stores {
			names[k] = s.ID
		}
		return blobsListOut{Stores: stores}, fmt.Sprintf("%d store(s): %s", len(stores), orNone(strings.Join(names, ", "))), nil
	}
	id, err := storeArgs{Store: in.Store, Deploy: in.Deploy}.id()
	if err != nil {
		return blobsListOut{}, "", err
	}
	if in.Limit < 0 || in.Limit > blobs.PageSize {
		return blobsListOut{}, "", badArg("limit", "%d is out of range: use 1 to %d", in.Limit, blobs.PageSize)
	}
	p, err := c.BlobList(ctx, id, in.Prefix, in.Cursor, in.Limit)
	if err != nil {
		var se *apiclient.StatusError
		if errors.As(err, &se) && se.Status == http.StatusBadRequest {
			return blobsListOut{}, "", badArg("cursor", "%s", se.Message())
		}
		return blobsListOut{}, "", blobsErr(err, "")
	}
	out := blobsListOut{Blobs: p.Blobs, Directories: p.Directories, NextCursor: p.NextCursor}
	var t strings.Builder
	fmt.Fprintf(&t, "%d key(s) in %s", len(p.Blobs), id)
	if in.Prefix != "" {
		fmt.Fprintf(&t, " under %q", in.Prefix)
	}
	t.WriteString(":\n")
	for _, e := range p.Blobs {
		fmt.Fprintf(&t, "- %s (%d bytes, %s)\n", e.Key, e.Size, e.LastModified.UTC().Format(time.RFC3339))
	}
	if p.NextCursor != "" {
		t.WriteString("More keys: call again with cursor " + p.NextCursor + "\n")
	}
	return out, strings.TrimSuffix(t.String(), "\n"), nil
}

// --- blobs_get

type blobsGetIn struct {
	storeArgs
	Key      string `json:"key" jsonschema:"the key, e.g. cats/tom.jpg"`
	MaxBytes int    `json:"max_bytes,omitempty" jsonschema:"return at most this many bytes of the value (default 65536, at most 1048576)"`
}

type blobsGetOut struct {
	blobs.Entry
	Metadata  any    `json:"metadata,omitempty" jsonschema:"the metadata stored with the value"`
	Value     string `json:"value" jsonschema:"the value (its first max_bytes)"`
	Encoding  string `json:"encoding" jsonschema:"utf-8, or base64 when the value is not text"`
	Truncated bool   `json:"truncated" jsonschema:"the value was cut at max_bytes"`
}

func (b *bgfn) blobsGet(ctx context.Context, c *apiclient.Client, in blobsGetIn) (blobsGetOut, string, error) {
	id, err := in.id()
	if err != nil {
		return blobsGetOut{}, "", err
	}
	if err := checkKey(in.Key); err != nil {
		return blobsGetOut{}, "", err
	}
	limit := int64(maxBlob)
	switch {
	case in.MaxBytes < 0 || in.MaxBytes > maxBlobLimit:
		return blobsGetOut{}, "", badArg("max_bytes", "%d is out of range: use 1 to %d", in.MaxBytes, maxBlobLimit)
	case in.MaxBytes > 0:
		limit = int64(in.MaxBytes)
	}
	v, err := c.BlobGet(ctx, id, in.Key, limit)
	if err != nil {
		return blobsGetOut{}, "", blobsErr(err, in.Key)
	}
	out := blobsGetOut{Entry: v.Entry, Truncated: v.Truncated}
	out.Value, out.Encoding = text(v.Data)
	if v.Metadata != nil {
		var m any
		if json.Unmarshal(v.Metadata, &m) == nil {
			out.Metadata = m
		}
	}
	t := fmt.Sprintf("%s in %s: %d bytes (%s)", in.Key, id, v.Size, out.Encoding)
	if v.Metadata != nil {
		t += ", metadata " + string(v.Metadata)
	}
	if out.Encoding == "utf-8" {
		t += "\n" + excerpt(out.Value, textBodyChars)
	}
	return out, t, nil
}

// --- blobs_set

type blobsSetIn struct {
	storeArgs
	Key      string         `json:"key" jsonschema:"the key, e.g. cats/tom.jpg"`
	Value    string         `json:"value" jsonschema:"the value, as text"`
	Base64   bool           `json:"base64,omitempty" jsonschema:"value is base64 of binary bytes"`
	Metadata map[string]any `json:"metadata,omitempty" jsonschema:"a JSON object stored with the value (at most 2 KB encoded)"`
}

func (b *bgfn) blobsSet(ctx context.Context, c *apiclient.Client, in blobsSetIn) (blobs.Entry, string, error) {
	id, err := in.id()
	if err != nil {
		return blobs.Entry{}, "", err
	}
	if err := checkKey(in.Key); err != nil {
		return blobs.Entry{}, "", err
	}
	data, err := decodeBody("value", in.Value, in.Base64)
	if err != nil {
		return blobs.Entry{}, "", err
	}
	var meta []byte
	if in.Metadata != nil {
		if meta, err = json.Marshal(in.Metadata); err != nil {
			return blobs.Entry{}, "", badArg("metadata", "cannot encode it as JSON: %v", err)
		}
		if n := len(blobs.EncodeMetadata(meta)); n > blobs.MaxMetadataBytes {
			return blobs.Entry{}, "", badArg("metadata", "%d bytes encoded, the limit is %d (2 KB)", n, blobs.MaxMetadataBytes)
		}
	}
	e, err := c.BlobSet(ctx, id, in.Key, data, meta)
	if err != nil {
		var se *apiclient.StatusError
		if errors.As(err, &se) && se.Status == http.StatusConflict {
			return blobs.Entry{}, "", badArg("key", "%s", se.Message())
		}
		return blobs.Entry{}, "", blobsErr(err, "")
	}
	return e, fmt.Sprintf("Stored %d bytes at %s in %s (etag %s)", e.Size, e.Key, id, e.ETag), nil
}

// --- blobs_delete

type blobsDeleteIn struct {
	storeArgs
	Key string `json:"key" jsonschema:"the key to delete"`
}

type blobsDeleteOut struct {
	Deleted bool `json:"deleted" jsonschema:"a value was there and is gone; false when the key had no value"`
}

func (b *bgfn) blobsDelete(ctx context.Context, c *apiclient.Client, in blobsDeleteIn) (blobsDeleteOut, string, error) {
	id, err := in.id()
	if err != nil {
		return blobsDeleteOut{}, "", err
	}
	if err := checkKey(in.Key); err != nil {
		return blobsDeleteOut{}, "", err
	}
	err = c.BlobDelete(ctx, id, in.Key)
	var se *apiclient.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound && strings.Contains(se.Message(), "no value") {
		return blobsDeleteOut{}, fmt.Sprintf("%s had no value in %s: nothing deleted", in.Key, id), nil
	}
	if err != nil {
		return blobsDeleteOut{}, "", blobsErr(err, "")
	}
	return blobsDeleteOut{Deleted: true}, fmt.Sprintf("Deleted %s from %s", in.Key, id), nil
}
