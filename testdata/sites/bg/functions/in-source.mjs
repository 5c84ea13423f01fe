// A Functions 2.0 handler that is a background function by its in-source
// config.
export default async () => {
  console.log('configured in source')
}

export const config = { background: true }
