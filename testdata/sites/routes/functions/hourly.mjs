// A scheduled function: it logs the body the scheduler sends.
export default async (req) => {
  const body = await req.text()
  console.log('hourly got ' + body)
}

export const config = { schedule: '@hourly' }
