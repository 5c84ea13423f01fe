// A v2 handler object with a method for every platform event and fetch for
// everything else (testdata/script/events_dispatch.txtar, events_trigger.txtar).
import { getContext } from '@netlify/functions'

const deploy = (name) => (e) => {
  console.log(`${name} id=${e.deploy.id} state=${e.deploy.state} branch=${e.deploy.branch} site=${e.site.id} context=${typeof getContext().requestId}`)
}

export default {
  deployBuilding: deploy('deployBuilding'),
  deploySucceeded: deploy('deploySucceeded'),
  async deployFailed(e) {
    console.log(`deployFailed error=${e.deploy.errorMessage}`)
  },
  deployDeleted: deploy('deployDeleted'),
  deployLocked: deploy('deployLocked'),
  deployUnlocked: deploy('deployUnlocked'),
  formSubmitted(e) {
    console.log(`formSubmitted email=${e.data.email} keys=${Object.keys(e).join(',')}`)
  },
  async userSignup(e) {
    if (e.user.email.endsWith('@blocked.example')) return e.deny()
    console.log(`userSignup email=${e.user.email} name=${e.user.name} provider=${e.user.provider}`)
  },
  userLogin(e) {
    return { user: { ...e.user, roles: ['admin'] } }
  },
  userValidate(e) {
    return e.deny()
  },
  userModified(e) {
    console.log(`userModified id=${e.user.id}`)
  },
  userDeleted(e) {
    // userDeleted cannot be denied: the answer stays 200.
    e.deny()
    console.log(`userDeleted email=${e.user.email}`)
  },
  fetch(req, context) {
    return new Response(`fetch ${req.method} event=${req.headers.get('x-netlify-event') ?? '-'} path=${context.url.pathname}`)
  },
}
