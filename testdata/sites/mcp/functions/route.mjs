export default async (req) => new Response(`routed ${new URL(req.url).pathname}`);

export const config = { path: "/api/greet" };
