-- Demo data for local runs: one organization, one user and that user's admin membership.
-- Fixed ids, so the local run and the docs can name them. Safe to load twice.

INSERT INTO auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'demo@outreach.local',
        '{"provider": "email"}', '{"name": "Demo User"}', now(), now())
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.organizations (id, org_name)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'Demo Studio Supplies')
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.organization_members (organization_id, user_id, role)
VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'admin')
ON CONFLICT (organization_id, user_id) DO NOTHING;
